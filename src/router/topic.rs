//! (router: topic)
