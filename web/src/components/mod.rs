//! The page's components, each a function component with `Props` and
//! `on<verb>` callbacks (or one `onmsg` for panels of many controls).

pub mod cluster;
pub mod controls;
pub mod feed;
pub mod inspector;
pub mod logs;
pub mod panels;
pub mod timeline;
