//! The page's components, each a function component with `Props` and
//! `on<verb>` callbacks (or one `onmsg` for panels of many controls).

pub mod a11y;
pub mod breakit;
pub mod breakpoints;
pub mod caption;
pub mod cluster;
pub mod controls;
pub mod delivery;
pub mod experiments;
pub mod feed;
pub mod form;
pub mod inspector;
pub mod lesson;
pub mod logs;
pub mod panels;
pub mod parts;
pub mod share;
pub mod spacetime;
pub mod timeline;
pub mod transport;
