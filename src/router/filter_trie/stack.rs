//! A depth-first-search stack that lives on the call stack for typical
//! depths and spills to the heap only for unusually deep tries.
//!
//! Trie walks are iterative rather than recursive because the depth of a
//! filter or topic is chosen by clients (up to ~32k levels in a 64 KiB
//! string), and a recursion that deep would overflow an executor's stack.

pub(crate) struct DfsStack<T, const N: usize> {
    inline: [Option<T>; N],
    inline_len: usize,
    /// Only used once `inline` is full, so it holds the top of the stack
    /// whenever it is non-empty.
    spill: Vec<T>,
}

impl<T, const N: usize> DfsStack<T, N> {
    pub(crate) fn new() -> Self {
        DfsStack {
            inline: [const { None }; N],
            inline_len: 0,
            spill: Vec::new(),
        }
    }

    #[inline]
    pub(crate) fn push(&mut self, item: T) {
        if self.inline_len < N {
            self.inline[self.inline_len] = Some(item);
            self.inline_len += 1;
        } else {
            self.spill.push(item);
        }
    }

    #[inline]
    pub(crate) fn pop(&mut self) -> Option<T> {
        if let Some(item) = self.spill.pop() {
            return Some(item);
        }
        if self.inline_len == 0 {
            return None;
        }
        self.inline_len -= 1;
        self.inline[self.inline_len].take()
    }

    #[inline]
    pub(crate) fn last_mut(&mut self) -> Option<&mut T> {
        if !self.spill.is_empty() {
            return self.spill.last_mut();
        }
        match self.inline_len {
            0 => None,
            n => self.inline[n - 1].as_mut(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::DfsStack;

    #[test]
    fn lifo_across_the_spill_boundary() {
        let mut stack: DfsStack<u32, 4> = DfsStack::new();
        for i in 0..10 {
            stack.push(i);
        }
        *stack.last_mut().unwrap() += 100;
        assert_eq!(stack.pop(), Some(109));
        for i in (5..9).rev() {
            assert_eq!(stack.pop(), Some(i));
        }
        stack.push(50);
        assert_eq!(stack.pop(), Some(50));
        for i in (0..5).rev() {
            assert_eq!(stack.pop(), Some(i));
        }
        assert_eq!(stack.pop(), None);
        assert!(stack.last_mut().is_none());
    }
}
