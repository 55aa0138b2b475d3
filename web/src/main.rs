//! raftlab in the browser (placeholder until the foundation work lands).
use yew::prelude::*;

#[function_component(App)]
fn app() -> Html {
    html! { <main>{ "raftlab" }</main> }
}

fn main() {
    yew::Renderer::<App>::new().render();
}
