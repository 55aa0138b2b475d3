//! Safety checker over traces and live simulations.
