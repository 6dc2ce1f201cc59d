//! The exported Core against a real fake-gcs-server (and the sidecar stand-in and
//! authenticating gate of tests/support/servers.mjs). Addresses are baked in at compile
//! time, as gloo does, so the same tests run wherever wasm-bindgen-test runs them.
#![cfg(target_arch = "wasm32")]

use js_sys::{Array, Function, Object, Promise, Reflect, Uint8Array};
use replit_object_storage_wasm::Core;
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;
use wasm_bindgen_test::wasm_bindgen_test;

const EMULATOR: &str = match option_env!("GCS_EMULATOR_URL") {
    Some(url) => url,
    None => "http://127.0.0.1:4443",
};
const SIDECAR: &str = match option_env!("SIDECAR_URL") {
    Some(url) => url,
    None => "http://127.0.0.1:1106",
};
const GATE: &str = match option_env!("GATE_URL") {
    Some(url) => url,
    None => "http://127.0.0.1:4480",
};
const BUCKET: &str = "test-bucket";

/// The client's operations by name, as the runtime layers call them (`Core::call`).
trait Operations {
    fn operation(&self, name: &str, first: JsValue, second: JsValue, third: JsValue) -> Promise;

    fn copy(&self, source: JsValue, destination: JsValue, options: JsValue) -> Promise {
        self.operation("copy", source, destination, options)
    }
    fn delete(&self, name: JsValue, options: JsValue) -> Promise {
        self.operation("delete", name, options, JsValue::UNDEFINED)
    }
    fn exists(&self, name: JsValue, options: JsValue) -> Promise {
        self.operation("exists", name, options, JsValue::UNDEFINED)
    }
    fn list(&self, options: JsValue) -> Promise {
        self.operation("list", options, JsValue::UNDEFINED, JsValue::UNDEFINED)
    }
    fn download_bytes(&self, name: JsValue, options: JsValue) -> Promise {
        self.operation("downloadAsBytes", name, options, JsValue::UNDEFINED)
    }
    fn download_text(&self, name: JsValue, options: JsValue) -> Promise {
        self.operation("downloadAsText", name, options, JsValue::UNDEFINED)
    }
    fn download_stream(&self, name: JsValue, options: JsValue) -> Promise {
        self.operation("downloadAsStream", name, options, JsValue::UNDEFINED)
    }
    fn upload(&self, name: JsValue, contents: JsValue, options: JsValue) -> Promise {
        self.operation("uploadFromBytes", name, contents, options)
    }
}

impl Operations for Core {
    fn operation(&self, name: &str, first: JsValue, second: JsValue, third: JsValue) -> Promise {
        self.call(name.into(), first, second, third)
    }
}

fn object(pairs: &[(&str, JsValue)]) -> JsValue {
    let object = Object::new();
    for (key, value) in pairs {
        Reflect::set(&object, &JsValue::from_str(key), value).unwrap();
    }
    object.into()
}

fn get(target: &JsValue, key: &str) -> JsValue {
    Reflect::get(target, &JsValue::from_str(key)).unwrap()
}

/// The environment of a Node process with STORAGE_EMULATOR_HOST set to the emulator.
fn emulator_environment() -> JsValue {
    object(&[("STORAGE_EMULATOR_HOST", EMULATOR.into())])
}

/// A client of the emulator, anonymous as with STORAGE_EMULATOR_HOST.
fn emulator_client(bucket: &str) -> Core {
    Core::new(object(&[("bucketId", bucket.into())]), emulator_environment())
}

fn unique(prefix: &str) -> String {
    format!("{prefix}/{}", (js_sys::Math::random() * 1e12) as u64)
}

async fn settle(promise: Promise) -> JsValue {
    JsFuture::from(promise).await.expect("Core promises always resolve")
}

async fn ok(promise: Promise) -> JsValue {
    let result = settle(promise).await;
    assert_eq!(
        get(&result, "ok"),
        JsValue::TRUE,
        "expected ok, got error {:?}",
        js_sys::JSON::stringify(&get(&result, "error"))
    );
    get(&result, "value")
}

/// The error of a failed call, as `(kind, statusCode)`.
async fn failure(promise: Promise) -> (String, Option<f64>) {
    let result = settle(promise).await;
    assert_eq!(get(&result, "ok"), JsValue::FALSE, "expected an error result");
    let error = get(&result, "error");
    assert!(get(&error, "message").as_string().is_some_and(|message| !message.is_empty()));
    (get(&error, "kind").as_string().unwrap(), get(&error, "statusCode").as_f64())
}

fn bytes(values: &[u8]) -> JsValue {
    Uint8Array::from(values).into()
}

#[wasm_bindgen_test]
async fn text_round_trip_exists_and_delete() {
    let client = emulator_client(BUCKET);
    let name = unique("text") + "/sp ace#?ü+%.txt";
    ok(client.upload(name.clone().into(), "\u{feff}héllo".into(), JsValue::UNDEFINED)).await;
    assert_eq!(ok(client.exists(name.clone().into(), JsValue::UNDEFINED)).await, JsValue::TRUE);
    let text = ok(client.download_text(name.clone().into(), JsValue::UNDEFINED)).await;
    assert_eq!(text.as_string().unwrap(), "\u{feff}héllo", "the BOM is kept");
    ok(client.delete(name.clone().into(), JsValue::UNDEFINED)).await;
    assert_eq!(ok(client.exists(name.clone().into(), JsValue::UNDEFINED)).await, JsValue::FALSE);
    assert_eq!(
        failure(client.delete(name.clone().into(), JsValue::UNDEFINED)).await,
        ("ObjectNotFound".into(), Some(404.0))
    );
    let ignore = object(&[("ignoreNotFound", JsValue::TRUE)]);
    assert_eq!(ok(client.delete(name.into(), ignore)).await, JsValue::NULL);
}

#[wasm_bindgen_test]
async fn every_byte_value_survives_the_round_trip() {
    let client = emulator_client(BUCKET);
    let name = unique("bytes");
    let all: Vec<u8> = (0..=255u8).cycle().take(256 * 1024 + 7).collect();
    ok(client.upload(name.clone().into(), bytes(&all), JsValue::UNDEFINED)).await;
    let downloaded: Uint8Array = ok(client.download_bytes(name.into(), JsValue::UNDEFINED)).await.dyn_into().unwrap();
    assert_eq!(downloaded.to_vec(), all);
}

#[wasm_bindgen_test]
async fn invalid_utf8_is_replaced_not_refused() {
    let client = emulator_client(BUCKET);
    let name = unique("lossy");
    ok(client.upload(name.clone().into(), bytes(&[b'a', 0xff, b'b']), JsValue::UNDEFINED)).await;
    let text = ok(client.download_text(name.into(), JsValue::UNDEFINED)).await;
    assert_eq!(text.as_string().unwrap(), "a\u{fffd}b");
}

#[wasm_bindgen_test]
async fn blobs_and_streams_upload_and_streams_download() {
    let client = emulator_client(BUCKET);
    let name = unique("stream");
    let blob = web_sys::Blob::new_with_str_sequence(&Array::of2(&"from ".into(), &"a blob".into())).unwrap();
    ok(client.upload(name.clone().into(), blob.clone().into(), JsValue::UNDEFINED)).await;
    assert_eq!(
        ok(client.download_text(name.clone().into(), JsValue::UNDEFINED)).await.as_string().unwrap(),
        "from a blob"
    );

    ok(client.upload(name.clone().into(), blob.stream().into(), JsValue::UNDEFINED)).await;
    let stream: web_sys::ReadableStream =
        ok(client.download_stream(name.into(), JsValue::UNDEFINED)).await.dyn_into().unwrap();
    let response = web_sys::Response::new_with_opt_readable_stream(Some(&stream)).unwrap();
    let text = JsFuture::from(response.text().unwrap()).await.unwrap();
    assert_eq!(text.as_string().unwrap(), "from a blob");
}

#[wasm_bindgen_test]
async fn copy_overwrites_the_destination() {
    let client = emulator_client(BUCKET);
    let (source, destination) = (unique("copy"), unique("copy"));
    ok(client.upload(source.clone().into(), "new".into(), JsValue::UNDEFINED)).await;
    ok(client.upload(destination.clone().into(), "old".into(), JsValue::UNDEFINED)).await;
    assert_eq!(ok(client.copy(source.into(), destination.clone().into(), JsValue::UNDEFINED)).await, JsValue::NULL);
    assert_eq!(ok(client.download_text(destination.into(), JsValue::UNDEFINED)).await.as_string().unwrap(), "new");
    assert_eq!(
        failure(client.copy(unique("missing").into(), unique("x").into(), JsValue::UNDEFINED)).await,
        ("ObjectNotFound".into(), Some(404.0))
    );
}

fn names(list: &JsValue) -> Vec<String> {
    Array::from(list).iter().map(|item| get(&item, "name").as_string().unwrap()).collect()
}

#[wasm_bindgen_test]
async fn list_filters_orders_and_caps() {
    let client = emulator_client(BUCKET);
    let dir = unique("list");
    for leaf in ["c", "a", "b/x", "d"] {
        ok(client.upload(format!("{dir}/{leaf}").into(), leaf.into(), JsValue::UNDEFINED)).await;
    }
    let all = ok(client.list(object(&[("prefix", format!("{dir}/").into())]))).await;
    assert_eq!(names(&all), ["a", "b/x", "c", "d"].map(|leaf| format!("{dir}/{leaf}")));
    let first = Array::from(&all).get(0);
    assert_eq!(Object::keys(first.unchecked_ref::<Object>()).length(), 1, "list items are exactly {{name}}");

    let capped = ok(client.list(object(&[("prefix", format!("{dir}/").into()), ("maxResults", 2.into())]))).await;
    assert_eq!(names(&capped).len(), 2);
    let window = object(&[
        ("prefix", format!("{dir}/").into()),
        ("startOffset", format!("{dir}/b").into()),
        ("endOffset", format!("{dir}/d").into()),
    ]);
    assert_eq!(names(&ok(client.list(window)).await), [format!("{dir}/b/x"), format!("{dir}/c")]);
    let bad = object(&[("maxResults", "ten".into())]);
    assert_eq!(failure(client.list(bad)).await.0, "InvalidArgument");
}

#[wasm_bindgen_test]
async fn missing_objects_and_buckets_are_told_apart() {
    let client = emulator_client(BUCKET);
    assert_eq!(ok(client.exists(unique("none").into(), JsValue::UNDEFINED)).await, JsValue::FALSE);
    assert_eq!(
        failure(client.download_bytes(unique("none").into(), JsValue::UNDEFINED)).await,
        ("ObjectNotFound".into(), Some(404.0))
    );
    let nowhere = emulator_client("no-such-bucket-for-tests");
    assert_eq!(
        ok(nowhere.exists("x".into(), JsValue::UNDEFINED)).await,
        JsValue::FALSE,
        "exists is false for a missing bucket"
    );
    assert_eq!(
        failure(nowhere.download_text("x".into(), JsValue::UNDEFINED)).await,
        ("BucketNotFound".into(), Some(404.0))
    );
    assert_eq!(failure(nowhere.list(JsValue::UNDEFINED)).await, ("BucketNotFound".into(), Some(404.0)));
}

#[wasm_bindgen_test]
async fn bad_names_and_arguments_are_invalid_argument_results() {
    let client = emulator_client(BUCKET);
    let long = "x".repeat(1025);
    for name in [
        JsValue::from_str(""),
        ".".into(),
        "..".into(),
        "a\nb".into(),
        ".well-known/acme-challenge/t".into(),
        long.as_str().into(),
        42.into(),
        JsValue::NULL,
    ] {
        assert_eq!(failure(client.exists(name, JsValue::UNDEFINED)).await.0, "InvalidArgument");
    }
    assert_eq!(failure(client.upload("ok.txt".into(), 42.into(), JsValue::UNDEFINED)).await.0, "InvalidArgument");
    let bad_options = Core::new("not an object".into(), JsValue::UNDEFINED);
    assert_eq!(failure(bad_options.exists("x".into(), JsValue::UNDEFINED)).await.0, "InvalidArgument");
    let bad_endpoint = Core::new(object(&[("apiEndpoint", "ftp://x".into())]), JsValue::UNDEFINED);
    assert_eq!(failure(bad_endpoint.exists("x".into(), JsValue::UNDEFINED)).await.0, "InvalidArgument");
    let unknown = client.operation("rename", "a".into(), "b".into(), JsValue::UNDEFINED);
    assert_eq!(failure(unknown).await.0, "Unsupported");
}

#[wasm_bindgen_test]
async fn compressed_uploads_come_back_decompressed() {
    let client = emulator_client(BUCKET);
    let name = unique("gzip") + ".txt";
    let text = "compressible ".repeat(1000);
    let compress = object(&[("compress", JsValue::TRUE)]);
    ok(client.upload(name.clone().into(), text.as_str().into(), compress)).await;
    assert_eq!(ok(client.download_text(name.clone().into(), JsValue::UNDEFINED)).await.as_string().unwrap(), text);
    let stored = object(&[("decompress", JsValue::FALSE)]);
    assert_eq!(failure(client.download_bytes(name.into(), stored)).await.0, "Unsupported");
}

#[wasm_bindgen_test]
async fn an_unreachable_endpoint_is_a_network_error_after_retries() {
    let client = Core::new(
        object(&[
            ("bucketId", "b".into()),
            ("accessToken", "t".into()),
            ("apiEndpoint", "http://127.0.0.1:1".into()),
            ("maxRetries", 2.into()),
            ("retryInitialDelayMs", 1.into()),
        ]),
        JsValue::UNDEFINED,
    );
    let result = settle(client.exists("x".into(), JsValue::UNDEFINED)).await;
    let error = get(&result, "error");
    assert_eq!(get(&error, "kind").as_string().unwrap(), "Network");
    assert_eq!(get(&error, "attempts").as_f64(), Some(3.0), "one try and two retries");
    assert!(get(&error, "statusCode").is_undefined());
}

/// A client that uploads resumably in 256 KiB chunks whatever the size.
fn chunking_client() -> Core {
    Core::new(
        object(&[("bucketId", BUCKET.into()), ("uploadChunkSize", 262_144.into()), ("resumableThreshold", 0.into())]),
        emulator_environment(),
    )
}

fn pattern(length: usize) -> Vec<u8> {
    (0..length).map(|index| (index * 31 % 251) as u8).collect()
}

#[wasm_bindgen_test]
async fn resumable_uploads_cross_chunk_boundaries_and_report_progress() {
    let client = chunking_client();
    for length in [0usize, 1, 262_144, 262_145, 600_000] {
        let name = unique("resumable");
        let data = pattern(length);
        let reports = Array::new();
        let record = Function::new_with_args("report", "this.push(report.bytes + '/' + report.total)").bind0(&reports);
        let options = object(&[("onProgress", record.into())]);
        ok(client.upload(name.clone().into(), bytes(&data), options)).await;
        let downloaded: Uint8Array =
            ok(client.download_bytes(name.into(), JsValue::UNDEFINED)).await.dyn_into().unwrap();
        assert_eq!(downloaded.to_vec(), data, "{length} bytes");
        let last = reports.get(reports.length().saturating_sub(1)).as_string();
        if length > 0 {
            assert_eq!(last, Some(format!("{length}/{length}")), "the last report is the whole body");
        }
    }
}

#[wasm_bindgen_test]
async fn streams_upload_in_chunks_without_a_known_length() {
    let client = chunking_client();
    let name = unique("stream-chunks");
    let data = pattern(700_001);
    let blob = web_sys::Blob::new_with_u8_array_sequence(&Array::of1(&bytes(&data))).unwrap();
    ok(client.upload(name.clone().into(), blob.stream().into(), JsValue::UNDEFINED)).await;
    let downloaded: Uint8Array = ok(client.download_bytes(name.into(), JsValue::UNDEFINED)).await.dyn_into().unwrap();
    assert_eq!(downloaded.to_vec(), data);
}

#[wasm_bindgen_test]
async fn ranges_return_exactly_the_bytes_asked_for() {
    let client = emulator_client(BUCKET);
    let name = unique("range");
    let data = pattern(1000);
    ok(client.upload(name.clone().into(), bytes(&data), JsValue::UNDEFINED)).await;
    type Case<'a> = (&'a [(&'a str, JsValue)], std::ops::Range<usize>);
    let cases: [Case; 4] = [
        (&[("start", 0.into()), ("end", 9.into())], 0..10),
        (&[("start", 100.into()), ("end", 199.into())], 100..200),
        (&[("suffix", 7.into())], 993..1000),
        (&[("start", 990.into())], 990..1000),
    ];
    for (range, expected) in cases {
        let options = object(&[("range", object(range))]);
        let got: Uint8Array = ok(client.download_bytes(name.clone().into(), options)).await.dyn_into().unwrap();
        assert_eq!(got.to_vec(), data[expected.clone()].to_vec(), "{expected:?}");
    }
    let past = object(&[("range", object(&[("start", 5000.into())]))]);
    assert_eq!(
        failure(client.download_bytes(name.clone().into(), past)).await,
        ("InvalidArgument".into(), Some(416.0))
    );
    let backwards = object(&[("range", object(&[("start", 9.into()), ("end", 3.into())]))]);
    assert_eq!(failure(client.download_bytes(name.into(), backwards)).await.0, "InvalidArgument");
}

#[wasm_bindgen_test]
async fn an_aborted_signal_stops_the_call() {
    let client = emulator_client(BUCKET);
    let controller = web_sys::AbortController::new().unwrap();
    controller.abort();
    let options = object(&[("signal", controller.signal().into())]);
    assert_eq!(failure(client.exists("x".into(), options)).await, ("Aborted".into(), None));
    let not_a_signal = object(&[("signal", "soon".into())]);
    assert_eq!(failure(client.exists("x".into(), not_a_signal)).await.0, "InvalidArgument");
}

#[wasm_bindgen_test]
async fn the_default_bucket_comes_from_the_sidecar() {
    let client = Core::new(object(&[("sidecarEndpoint", SIDECAR.into())]), emulator_environment());
    let name = unique("default");
    ok(client.upload(name.clone().into(), "in the default bucket".into(), JsValue::UNDEFINED)).await;
    assert_eq!(ok(client.exists(name.into(), JsValue::UNDEFINED)).await, JsValue::TRUE);
    let no_sidecar = Core::new(object(&[("sidecarEndpoint", "http://127.0.0.1:9".into())]), emulator_environment());
    assert_eq!(failure(no_sidecar.exists("x".into(), JsValue::UNDEFINED)).await, ("DefaultBucket".into(), None));
}

#[wasm_bindgen_test]
async fn sidecar_tokens_open_the_gate() {
    let through_gate = Core::new(
        object(&[("bucketId", BUCKET.into()), ("apiEndpoint", GATE.into()), ("sidecarEndpoint", SIDECAR.into())]),
        emulator_environment(),
    );
    let name = unique("gate");
    ok(through_gate.upload(name.clone().into(), "authorised".into(), JsValue::UNDEFINED)).await;
    assert_eq!(
        ok(through_gate.download_text(name.into(), JsValue::UNDEFINED)).await.as_string().unwrap(),
        "authorised"
    );
    let wrong_token = Core::new(
        object(&[("bucketId", BUCKET.into()), ("apiEndpoint", GATE.into()), ("accessToken", "forged".into())]),
        JsValue::UNDEFINED,
    );
    assert_eq!(failure(wrong_token.exists("x".into(), JsValue::UNDEFINED)).await, ("Unauthorized".into(), Some(401.0)));
}

#[wasm_bindgen_test]
async fn a_token_function_is_called_for_the_token() {
    let provider = Function::new_no_args("return Promise.resolve('forged-but-called')");
    let client = Core::new(
        object(&[("bucketId", BUCKET.into()), ("apiEndpoint", GATE.into()), ("accessToken", provider.into())]),
        JsValue::UNDEFINED,
    );
    assert_eq!(failure(client.exists("x".into(), JsValue::UNDEFINED)).await, ("Unauthorized".into(), Some(401.0)));
    let throwing = Function::new_no_args("throw new Error('no session')");
    let client = Core::new(
        object(&[("bucketId", BUCKET.into()), ("apiEndpoint", GATE.into()), ("accessToken", throwing.into())]),
        JsValue::UNDEFINED,
    );
    let result = settle(client.exists("x".into(), JsValue::UNDEFINED)).await;
    let message = get(&get(&result, "error"), "message").as_string().unwrap();
    assert!(message.contains("no session"), "{message}");
}

#[wasm_bindgen_test]
async fn the_integrity_check_says_whether_it_ran() {
    let client = emulator_client(BUCKET);
    let name = unique("integrity") + ".txt";
    ok(client.upload(name.clone().into(), "checked bytes".into(), JsValue::UNDEFINED)).await;
    let gzipped = unique("integrity-gz") + ".txt";
    ok(client.upload(
        gzipped.clone().into(),
        "zipped ".repeat(50).as_str().into(),
        object(&[("compress", JsValue::TRUE)]),
    ))
    .await;
    let cases: [(&str, JsValue, bool, &str); 3] = [
        (&name, JsValue::UNDEFINED, true, "crc32c"),
        (&name, object(&[("start", 0.into()), ("end", 3.into())]), false, "range"),
        (&gzipped, JsValue::UNDEFINED, false, "stored encoded"),
    ];
    for (object_name, range, verified, detail) in cases {
        let reports = Array::new();
        let record = Function::new_with_args("report", "this.push(report)").bind0(&reports);
        let mut options = vec![("onIntegrity", JsValue::from(record))];
        if !range.is_undefined() {
            options.push(("range", range));
        }
        ok(client.download_bytes(object_name.into(), object(&options))).await;
        assert_eq!(reports.length(), 1, "one report per download");
        let report = reports.get(0);
        assert_eq!(get(&report, "verified"), JsValue::from_bool(verified), "{detail}");
        let text = get(&report, "detail").as_string().unwrap();
        assert!(text.contains(detail), "{text}");
    }
}

/// What the browser layer (js/web/client.mjs) gives the core to send uploadToUrl's PUT: a
/// XMLHttpRequest, for upload progress (fetch where there is none, as under Node).
const XHR_SENDER: &str =
    "return (request, body) => typeof XMLHttpRequest !== 'function' ? fetch(new Request(request, { body })) : \
    new Promise((resolve, reject) => { const xhr = new XMLHttpRequest(); xhr.open(request.method, request.url); \
    request.headers.forEach((value, name) => xhr.setRequestHeader(name, value)); \
    xhr.upload.onprogress = ({ loaded, total }) => onProgress({ bytes: loaded, loaded, total }); \
    xhr.onload = () => resolve(new Response(xhr.response || null, { status: xhr.status })); \
    xhr.onerror = () => reject(new TypeError('network error')); xhr.send(body); })";

/// A signed URL from the sidecar stand-in, pointing at the gate, which checks it as GCS does.
async fn signed_url(name: &str, method: &str) -> JsValue {
    let sign = Function::new_with_args(
        "sidecar, bucket, object, method",
        "return fetch(sidecar + '/object-storage/signed-object-url', { method: 'POST', \
         headers: { 'content-type': 'application/json' }, body: JSON.stringify({ bucket_name: bucket, \
         object_name: object, method, expires_at: new Date(Date.now() + 600000).toISOString() }) }) \
         .then((answer) => answer.json()).then((answer) => answer.signed_url)",
    );
    let args = Array::of4(&SIDECAR.into(), &BUCKET.into(), &name.into(), &method.into());
    let url = JsFuture::from(sign.apply(&JsValue::NULL, &args).unwrap().unchecked_into::<Promise>()).await.unwrap();
    assert!(url.as_string().is_some_and(|url| url.starts_with(GATE)), "a signed URL of the gate: {url:?}");
    url
}

/// Progress reports as `[loaded, total]` pairs, checked: `loaded` is `bytes`, never goes back,
/// and ends at `total`.
fn checked_progress(reports: &Array, total: usize) -> Vec<(f64, f64)> {
    let pairs: Vec<(f64, f64)> = reports
        .iter()
        .map(|report| {
            assert_eq!(get(&report, "loaded").as_f64(), get(&report, "bytes").as_f64());
            (get(&report, "loaded").as_f64().unwrap(), get(&report, "total").as_f64().unwrap())
        })
        .collect();
    assert!(pairs.windows(2).all(|pair| pair[0].0 <= pair[1].0), "progress never goes back: {pairs:?}");
    assert!(pairs.iter().all(|(_, of)| *of == total as f64), "every report has the total: {pairs:?}");
    assert_eq!(pairs.last().map(|(loaded, _)| *loaded), Some(total as f64), "the last report is at the end");
    pairs
}

#[wasm_bindgen_test]
async fn a_blob_goes_up_a_signed_url_with_progress_and_comes_back() {
    let name = unique("signed") + "/photo.bin";
    // More than the loopback connection's buffers hold, so part of it waits for the gate.
    let data = pattern(24 * 1024 * 1024 + 7);
    let blob = Function::new_with_args("bytes", "return new Blob([bytes], { type: 'image/png' })")
        .call1(&JsValue::NULL, &Uint8Array::from(data.as_slice()))
        .unwrap();
    let reports = Array::new();
    let on_progress = Function::new_with_args("report", "this.push(report)").bind0(&reports);
    let sender = Function::new_with_args("onProgress", XHR_SENDER).call1(&JsValue::NULL, &on_progress).unwrap();
    let options = object(&[
        ("headers", object(&[("content-type", "image/png".into())])),
        ("onProgress", on_progress.clone().into()),
    ]);
    // The gate holds this PUT for a second before reading it: the body fills the connection's
    // buffers and waits, so the browser's progress reports come before the end even on loopback.
    let hold = Function::new_with_args(
        "gate, name",
        "return fetch(gate + '/__faults', { method: 'POST', headers: { 'content-type': 'application/json' }, \
         body: JSON.stringify({ method: 'PUT', pathIncludes: name, delayMs: 1000 }) }).then((answer) => answer.ok)",
    );
    let held = hold.call2(&JsValue::NULL, &GATE.into(), &name.clone().into()).unwrap();
    assert_eq!(
        JsFuture::from(held.unchecked_into::<Promise>()).await.unwrap(),
        JsValue::TRUE,
        "the gate takes the fault"
    );
    let put = signed_url(&name, "PUT").await;
    ok(replit_object_storage_wasm::url_transfer(put, options, blob, Some(sender.clone().unchecked_into()))).await;
    let up = checked_progress(&reports, data.len());
    let browser = js_sys::Reflect::has(&js_sys::global(), &"XMLHttpRequest".into()).unwrap();
    if browser {
        assert!(up.len() >= 2 && up[0].0 < data.len() as f64, "progress as the Blob goes up: {up:?}");
    }

    let reports = Array::new();
    let on_progress = Function::new_with_args("report", "this.push(report)").bind0(&reports);
    let get_url = signed_url(&name, "GET").await;
    let options = object(&[("onProgress", on_progress.into())]);
    let back = ok(replit_object_storage_wasm::url_transfer(get_url.clone(), options, JsValue::UNDEFINED, None)).await;
    assert_eq!(back.unchecked_into::<Uint8Array>().to_vec(), data);
    checked_progress(&reports, data.len());

    let range = object(&[("range", object(&[("start", 10.into()), ("end", 19.into())]))]);
    let middle = ok(replit_object_storage_wasm::url_transfer(get_url.clone(), range, JsValue::UNDEFINED, None)).await;
    assert_eq!(middle.unchecked_into::<Uint8Array>().to_vec(), data[10..20]);
    let wrong = failure(replit_object_storage_wasm::url_transfer(
        get_url,
        JsValue::UNDEFINED,
        "x".into(),
        Some(sender.unchecked_into()),
    ))
    .await;
    assert_eq!(wrong, ("Forbidden".to_string(), Some(403.0)), "a GET URL cannot PUT");
}
