//! The tool versions raftlab pins, and where each pin lives.
//!
//! - trunk: [`TRUNK_VERSION`] here (trunk 0.22 needs a newer rustc).
//! - wasm-bindgen-cli: must equal the `wasm-bindgen` crate in `Cargo.lock`,
//!   and `[tools] wasm_bindgen` in `Trunk.toml` repeats it.
//! - wasm-opt: the npm package `binaryen` in `e2e/package.json` (version
//!   `N.0.0` prints `wasm-opt version N`), repeated as `[tools] wasm_opt =
//!   "version_N"` in `Trunk.toml`.
//!
//! The readers below are deliberately small line scanners for these three
//! well-known files (xtask has no dependencies, so it compiles in seconds).

use std::path::Path;

/// The trunk release raftlab builds with.
pub const TRUNK_VERSION: &str = "0.21.14";

/// The version of package `name` in a `Cargo.lock`. Errors when the package
/// is missing or locked at more than one version.
pub fn cargo_lock_version(lock: &str, name: &str) -> Result<String, String> {
    let mut found = Vec::new();
    let mut in_package = false;
    let mut current_name: Option<String> = None;
    for line in lock.lines().map(str::trim) {
        if line.starts_with('[') {
            in_package = line == "[[package]]";
            current_name = None;
            continue;
        }
        if !in_package {
            continue;
        }
        if let Some(value) = toml_string(line, "name") {
            current_name = Some(value);
        } else if let Some(value) = toml_string(line, "version") {
            if current_name.as_deref() == Some(name) {
                found.push(value);
            }
        }
    }
    found.dedup();
    match found.as_slice() {
        [one] => Ok(one.clone()),
        [] => Err(format!("Cargo.lock has no package `{name}`")),
        many => Err(format!(
            "Cargo.lock has `{name}` at several versions ({}); trunk needs exactly one",
            many.join(", ")
        )),
    }
}

/// The string value of `key` in the `[section]` table of a simple TOML file.
pub fn toml_table_string(toml: &str, section: &str, key: &str) -> Option<String> {
    let header = format!("[{section}]");
    let mut in_section = false;
    for line in toml.lines().map(str::trim) {
        if line.starts_with('[') {
            in_section = line == header;
        } else if in_section {
            if let Some(value) = toml_string(line, key) {
                return Some(value);
            }
        }
    }
    None
}

/// `key = "value"` (with an optional trailing comment) → `value`.
fn toml_string(line: &str, key: &str) -> Option<String> {
    let rest = line.strip_prefix(key)?.trim_start().strip_prefix('=')?;
    let rest = rest.trim_start().strip_prefix('"')?;
    let end = rest.find('"')?;
    Some(rest[..end].to_string())
}

/// The version string of `"name": "version"` in a package.json (the first
/// occurrence, which in raftlab's e2e/package.json is its devDependencies).
pub fn package_json_version(json: &str, name: &str) -> Option<String> {
    let key = format!("\"{name}\"");
    let mut search = json;
    while let Some(at) = search.find(&key) {
        let rest = search[at + key.len()..].trim_start();
        if let Some(rest) = rest.strip_prefix(':') {
            let rest = rest.trim_start().strip_prefix('"')?;
            return rest.find('"').map(|end| rest[..end].to_string());
        }
        search = &search[at + key.len()..];
    }
    None
}

/// What trunk calls a binaryen release: `132.0.0` → `version_132`.
pub fn wasm_opt_tool_version(binaryen: &str) -> String {
    let major = binaryen.split('.').next().unwrap_or(binaryen);
    format!("version_{major}")
}

/// The pins read from the repository, checked against each other.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pins {
    /// `wasm-bindgen` in Cargo.lock, which wasm-bindgen-cli must match.
    pub wasm_bindgen: String,
    /// `binaryen` in e2e/package.json.
    pub binaryen: String,
    /// `[tools] wasm_opt` in Trunk.toml, as trunk spells it.
    pub wasm_opt: String,
}

impl Pins {
    /// Reads the pins under `root` and checks that Trunk.toml agrees with
    /// Cargo.lock and e2e/package.json.
    pub fn read(root: &Path) -> Result<Pins, String> {
        let read = |name: &str| {
            std::fs::read_to_string(root.join(name)).map_err(|e| format!("cannot read {name}: {e}"))
        };
        let lock = read("Cargo.lock")?;
        let trunk_toml = read("Trunk.toml")?;
        let package_json = read("e2e/package.json")?;

        let wasm_bindgen = cargo_lock_version(&lock, "wasm-bindgen")?;
        let binaryen = package_json_version(&package_json, "binaryen")
            .ok_or("e2e/package.json does not list the npm package `binaryen`")?;
        let wasm_opt = wasm_opt_tool_version(&binaryen);

        let pinned_bindgen = toml_table_string(&trunk_toml, "tools", "wasm_bindgen");
        if pinned_bindgen.as_deref() != Some(wasm_bindgen.as_str()) {
            return Err(format!(
                "Trunk.toml pins [tools] wasm_bindgen = {pinned_bindgen:?} but Cargo.lock has \
                 wasm-bindgen {wasm_bindgen}: set wasm_bindgen = \"{wasm_bindgen}\" in Trunk.toml"
            ));
        }
        let pinned_opt = toml_table_string(&trunk_toml, "tools", "wasm_opt");
        if pinned_opt.as_deref() != Some(wasm_opt.as_str()) {
            return Err(format!(
                "Trunk.toml pins [tools] wasm_opt = {pinned_opt:?} but e2e/package.json has \
                 binaryen {binaryen}: set wasm_opt = \"{wasm_opt}\" in Trunk.toml"
            ));
        }
        Ok(Pins {
            wasm_bindgen,
            binaryen,
            wasm_opt,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const LOCK: &str = r#"
version = 4

[[package]]
name = "wasm-bindgen"
version = "0.2.130"
source = "registry+https://github.com/rust-lang/crates.io-index"
dependencies = [
 "wasm-bindgen-macro",
]

[[package]]
name = "wasm-bindgen-macro"
version = "0.2.999"
"#;

    #[test]
    fn finds_the_exact_package_not_a_prefix_match() {
        assert_eq!(cargo_lock_version(LOCK, "wasm-bindgen").unwrap(), "0.2.130");
        assert_eq!(
            cargo_lock_version(LOCK, "wasm-bindgen-macro").unwrap(),
            "0.2.999"
        );
    }

    #[test]
    fn missing_or_duplicated_packages_are_errors() {
        assert!(cargo_lock_version(LOCK, "yew").is_err());
        let twice =
            format!("{LOCK}\n[[package]]\nname = \"wasm-bindgen\"\nversion = \"0.2.100\"\n");
        let err = cargo_lock_version(&twice, "wasm-bindgen").unwrap_err();
        assert!(err.contains("0.2.130") && err.contains("0.2.100"), "{err}");
    }

    #[test]
    fn reads_a_key_only_inside_its_table() {
        let toml = "wasm_opt = \"top\"\n[build]\nwasm_opt = \"build\"\n[tools]\n\
                    wasm_bindgen = \"0.2.1\" # pinned\nwasm_opt = \"version_7\"\n";
        assert_eq!(
            toml_table_string(toml, "tools", "wasm_opt").unwrap(),
            "version_7"
        );
        assert_eq!(
            toml_table_string(toml, "tools", "wasm_bindgen").unwrap(),
            "0.2.1"
        );
        assert_eq!(
            toml_table_string(toml, "build", "wasm_opt").unwrap(),
            "build"
        );
        assert_eq!(toml_table_string(toml, "serve", "wasm_opt"), None);
    }

    #[test]
    fn reads_package_json_versions() {
        let json = r#"{ "name": "x", "devDependencies": { "binaryen" : "132.0.0", "playwright-core": "1.65.1" } }"#;
        assert_eq!(package_json_version(json, "binaryen").unwrap(), "132.0.0");
        assert_eq!(
            package_json_version(json, "playwright-core").unwrap(),
            "1.65.1"
        );
        assert_eq!(package_json_version(json, "left-pad"), None);
        assert_eq!(wasm_opt_tool_version("132.0.0"), "version_132");
    }

    /// The repository's own pins agree: Trunk.toml matches Cargo.lock and
    /// e2e/package.json. Fails when someone bumps one and not the others.
    #[test]
    fn repository_pins_agree() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap();
        let pins = Pins::read(root).unwrap();
        assert!(pins.wasm_opt.starts_with("version_"));
        let trunk_toml = std::fs::read_to_string(root.join("Trunk.toml")).unwrap();
        let required = trunk_toml
            .lines()
            .find_map(|l| toml_string(l.trim(), "trunk-version"))
            .expect("Trunk.toml sets trunk-version");
        assert_eq!(required, format!("^{TRUNK_VERSION}"));
    }
}
