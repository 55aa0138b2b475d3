//! The page's query string (`?seed=7&speed=0.1&paused=1`), as both views,
//! the module loader and the benchmark modes read it.

use web_sys::UrlSearchParams;

/// The page's query parameters (none without a window, e.g. in a worker).
pub fn params() -> Option<UrlSearchParams> {
    let search = web_sys::window()?.location().search().ok()?;
    UrlSearchParams::new_with_str(&search).ok()
}

/// A whole-number parameter; absent or not a number reads as absent.
pub fn number(params: &UrlSearchParams, key: &str) -> Option<u64> {
    params.get(key)?.parse().ok()
}

/// A switch turned on by its presence (`present=1`; `present=0` is off).
pub fn on(params: &UrlSearchParams, key: &str) -> bool {
    params.get(key).is_some_and(|v| v != "0")
}

/// A default turned off (`prevote=0`).
pub fn off(params: &UrlSearchParams, key: &str) -> bool {
    params.get(key).is_some_and(|v| v == "0")
}

/// The clock a view starts with: `speed` (simulated ms per wall ms, else
/// `default_speed`) and whether it plays (`paused=1` holds it).
pub fn clock(params: Option<&UrlSearchParams>, default_speed: f64) -> (f64, bool) {
    let Some(p) = params else {
        return (default_speed, true);
    };
    let speed = p
        .get("speed")
        .and_then(|v| v.parse::<f64>().ok())
        .unwrap_or(default_speed);
    (speed, !on(p, "paused"))
}
