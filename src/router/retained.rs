//! (router: retained)
