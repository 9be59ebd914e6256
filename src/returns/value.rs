//! Value normalisation.
