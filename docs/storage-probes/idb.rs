// Probe: the `idb` crate (default features off, `futures` on: async/await without its builder).
include!("common.rs");
pub async fn probe() -> Result<u32, idb::Error> {
    use idb::{DatabaseEvent, Factory, IndexParams, KeyPath, KeyRange, ObjectStoreParams, Query, TransactionMode};
    let factory = Factory::new()?;
    let mut open = factory.open("natter-probe", Some(1))?;
    open.on_upgrade_needed(|event| {
        let Ok(db) = event.database() else { return };
        let mut params = ObjectStoreParams::new();
        params.auto_increment(true);
        params.key_path(Some(KeyPath::new_single("k")));
        if let Ok(store) = db.create_object_store("m", params) {
            let _ = store.create_index("ct", KeyPath::new_array(vec!["c", "t"]), Some(IndexParams::new()));
        }
    });
    let db = open.await?;
    let tx = db.transaction(&["m"], TransactionMode::ReadWrite)?;
    tx.object_store("m")?.put(&record(), None)?;
    tx.await?;
    let tx = db.transaction(&["m"], TransactionMode::ReadOnly)?;
    let range = KeyRange::bound(&lower(), &upper(), None, None)?;
    let rows = tx.object_store("m")?.index("ct")?.get_all(Some(Query::KeyRange(range)), Some(50))?.await?;
    Ok(rows.len() as u32)
}
