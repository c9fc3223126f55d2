// Shared by the three minimal probes: the record { c, t, b } they store and the range [c] ..= [c, []] they read.
fn record() -> wasm_bindgen::JsValue {
    let o = js_sys::Object::new();
    let _ = js_sys::Reflect::set(&o, &"c".into(), &"bob@localhost".into());
    let _ = js_sys::Reflect::set(&o, &"t".into(), &js_sys::Date::now().into());
    let _ = js_sys::Reflect::set(&o, &"b".into(), &"hello".into());
    o.into()
}
fn lower() -> wasm_bindgen::JsValue { js_sys::Array::of1(&"bob@localhost".into()).into() }
fn upper() -> wasm_bindgen::JsValue { js_sys::Array::of2(&"bob@localhost".into(), &js_sys::Array::new()).into() }
