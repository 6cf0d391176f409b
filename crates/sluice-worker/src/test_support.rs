//! What several test modules of the worker build the same way.

use std::collections::BTreeMap;

use sluice_core::function::{FunctionCode, FunctionOrigin, FunctionRecord};

/// A `url` function named `name` (pointing at a closed port: tests script the invoker).
pub fn url_function(name: &str) -> FunctionRecord {
    FunctionRecord {
        name: name.into(),
        code: FunctionCode::Url {
            url: "http://127.0.0.1:9/".into(),
        },
        origin: FunctionOrigin::Config,
        runtime: None,
        handler: None,
        role: FunctionRecord::default_role("000000000000"),
        description: String::new(),
        timeout: FunctionRecord::DEFAULT_TIMEOUT,
        memory_size: FunctionRecord::DEFAULT_MEMORY,
        environment: BTreeMap::new(),
        last_modified: String::new(),
        revision_id: String::new(),
        version: None,
    }
}
