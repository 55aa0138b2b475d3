//! The page's module (bin `raftlab-web`, the one index.html loads): see
//! the library's docs.

fn main() {
    raftlab_web::start_page();
}
