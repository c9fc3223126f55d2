// Probe: the `indexed_db_futures` crate (feature `indices`).
include!("common.rs");
pub async fn probe() -> Result<u32, indexed_db_futures::error::OpenDbError> {
    use indexed_db_futures::database::Database;
    use indexed_db_futures::prelude::*;
    use indexed_db_futures::transaction::TransactionMode;
    use indexed_db_futures::KeyRange;
    let db = Database::open("natter-probe")
        .with_version(1u8)
        .with_on_upgrade_needed(|_event, db| {
            let store = db.create_object_store("m").with_auto_increment(true).with_key_path("k".into()).build()?;
            store.create_index("ct", ["c", "t"].into()).build()?;
            Ok(())
        })
        .await?;
    let tx = db.transaction("m").with_mode(TransactionMode::Readwrite).build()?;
    tx.object_store("m")?.put(record()).await?;
    tx.commit().await?;
    let tx = db.transaction("m").build()?;
    let store = tx.object_store("m")?;
    let rows: Vec<wasm_bindgen::JsValue> = store
        .index("ct")?
        .get_all()
        .with_query::<wasm_bindgen::JsValue, _>(KeyRange::Bound(lower(), false, upper(), false))
        .with_limit(50)
        .await?
        .collect::<Result<_, _>>()?;
    Ok(rows.len() as u32)
}
