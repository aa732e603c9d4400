//! (router: filter_trie)
