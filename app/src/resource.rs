//! Every page's data loads through [`resource`]: a Leptos `Resource` whose
//! value reaches the hydrating browser as JSON read with `serde_json::from_slice`,
//! the same reader server-function replies use. Leptos' default codec reads it
//! with `from_str`, which puts a second copy of every view type's deserializer
//! into the WASM; one reader keeps it to one.

use std::future::Future;

use codee::{Decoder, Encoder};
use leptos::prelude::Resource;
use serde::Serialize;
use serde::de::DeserializeOwned;

/// JSON, decoded from bytes (see the module doc).
pub struct JsonBytes;

impl<T: Serialize> Encoder<T> for JsonBytes {
    type Error = serde_json::Error;
    type Encoded = String;

    fn encode(val: &T) -> Result<String, serde_json::Error> {
        serde_json::to_string(val)
    }
}

impl<T: DeserializeOwned> Decoder<T> for JsonBytes {
    type Error = serde_json::Error;
    type Encoded = str;

    fn decode(val: &str) -> Result<T, serde_json::Error> {
        serde_json::from_slice(val.as_bytes())
    }
}

/// `Resource::new` with [`JsonBytes`]: reruns `fetcher` when `source` changes;
/// on the client the first value comes from the server's render.
#[track_caller]
pub fn resource<T, S, Fut>(
    source: impl Fn() -> S + Send + Sync + 'static,
    fetcher: impl Fn(S) -> Fut + Send + Sync + 'static,
) -> Resource<T, JsonBytes>
where
    T: Serialize + DeserializeOwned + Send + Sync + 'static,
    S: PartialEq + Clone + Send + Sync + 'static,
    Fut: Future<Output = T> + Send + 'static,
{
    Resource::new_with_options(source, fetcher, false)
}
