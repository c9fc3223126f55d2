// Probe: raw web-sys IndexedDB, one promise per request (its resolve/reject are the request's handlers).
include!("common.rs");
use wasm_bindgen::{JsCast, JsValue};
async fn done(req: &web_sys::IdbRequest) -> Result<JsValue, JsValue> {
    let promise = js_sys::Promise::new(&mut |resolve, reject| {
        req.set_onsuccess(Some(&resolve));
        req.set_onerror(Some(&reject));
    });
    wasm_bindgen_futures::JsFuture::from(promise).await?;
    req.result()
}
async fn committed(tx: &web_sys::IdbTransaction) -> Result<(), JsValue> {
    let promise = js_sys::Promise::new(&mut |resolve, reject| {
        tx.set_oncomplete(Some(&resolve));
        tx.set_onabort(Some(&reject));
    });
    wasm_bindgen_futures::JsFuture::from(promise).await.map(drop)
}
pub async fn probe() -> Result<u32, JsValue> {
    use web_sys::{IdbDatabase, IdbObjectStoreParameters, IdbTransactionMode};
    let factory = web_sys::window().ok_or(JsValue::NULL)?.indexed_db()?.ok_or(JsValue::NULL)?;
    let open = factory.open_with_u32("natter-probe", 1)?;
    let request = open.clone();
    let upgrade = wasm_bindgen::closure::Closure::<dyn FnMut()>::new(move || {
        let Ok(db) = request.result().and_then(|r| r.dyn_into::<IdbDatabase>()) else { return };
        let params = IdbObjectStoreParameters::new();
        params.set_auto_increment(true);
        params.set_key_path(&"k".into());
        if let Ok(store) = db.create_object_store_with_optional_parameters("m", &params) {
            let _ = store.create_index_with_str_sequence("ct", &js_sys::Array::of2(&"c".into(), &"t".into()));
        }
    });
    open.set_onupgradeneeded(Some(upgrade.as_ref().unchecked_ref()));
    let db: IdbDatabase = done(&open).await?.dyn_into()?;
    open.set_onupgradeneeded(None);
    drop(upgrade);
    let tx = db.transaction_with_str_and_mode("m", IdbTransactionMode::Readwrite)?;
    tx.object_store("m")?.put(&record())?;
    committed(&tx).await?;
    let tx = db.transaction_with_str("m")?;
    let range = web_sys::IdbKeyRange::bound(&lower(), &upper())?;
    let req = tx.object_store("m")?.index("ct")?.get_all_with_key_and_limit(&range, 50)?;
    let rows: js_sys::Array = done(&req).await?.dyn_into()?;
    Ok(rows.length())
}
