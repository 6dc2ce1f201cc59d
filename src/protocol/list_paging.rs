//! Following a listing's pages: which page to ask for next and how many objects to ask for,
//! how many of a page's objects to keep (`maxResults` counts across pages), and when to stop
//! (no next token or an empty one, a server giving a token it gave before, which would go
//! round the same pages forever, `maxResults` reached). An empty page with a token is not the
//! end: GCS sends such pages when filters skip a stretch of names. Pure, so it is tested
//! natively against a simulated server; `wasm::storage`'s `list` sends the requests.

use crate::prelude::*;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListPaging {
    max_results: Option<u32>,
    /// Objects kept so far.
    gathered: u32,
    /// Every token the server gave, in order: the last is the page to ask for next (none:
    /// the first page). A few dozen bytes a page, kept to tell a cycle of any length.
    tokens: Vec<String>,
}

/// The next page to ask for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PageRequest<'a> {
    /// How many objects are still wanted (`None`: all).
    pub still_wanted: Option<u32>,
    pub token: Option<&'a str>,
}

impl ListPaging {
    pub fn new(max_results: Option<u32>) -> ListPaging {
        ListPaging { max_results, gathered: 0, tokens: Vec::new() }
    }

    /// The next page to ask for; `None` when the listing is complete.
    pub fn next_page(&self) -> Option<PageRequest<'_>> {
        let still_wanted = self.max_results.map(|max| max.saturating_sub(self.gathered));
        let token = self.tokens.last().map(String::as_str);
        (still_wanted != Some(0)).then_some(PageRequest { still_wanted, token })
    }

    /// Takes the page asked for: `items` objects and the next page's token (an empty token is
    /// none, as `ListPage::next_page` reads it). Returns how many of its objects to keep, from
    /// its first.
    pub fn took(&mut self, items: usize, next_token: Option<&str>) -> usize {
        let room = self.max_results.map_or(usize::MAX, |max| max.saturating_sub(self.gathered) as usize);
        let kept = items.min(room);
        self.gathered += kept as u32;
        match next_token {
            Some(next) if !self.tokens.iter().any(|token| token == next) => self.tokens.push(next.to_string()),
            // The last page: no more are wanted.
            _ => self.max_results = Some(self.gathered),
        }
        kept
    }
}

#[cfg(all(test, not(target_arch = "wasm32")))]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn pages_are_followed_until_there_is_no_token() {
        let mut paging = ListPaging::new(None);
        assert_eq!(paging.next_page(), Some(PageRequest { still_wanted: None, token: None }));
        assert_eq!(paging.took(3, Some("a")), 3);
        assert_eq!(paging.next_page(), Some(PageRequest { still_wanted: None, token: Some("a") }));
        assert_eq!(paging.took(0, Some("b")), 0, "an empty page with a token is not the end");
        assert_eq!(paging.next_page().and_then(|next| next.token), Some("b"));
        assert_eq!(paging.took(2, None), 2);
        assert_eq!(paging.next_page(), None);
    }

    #[test]
    fn max_results_counts_across_pages() {
        let mut paging = ListPaging::new(Some(5));
        assert_eq!(paging.next_page().and_then(|next| next.still_wanted), Some(5));
        assert_eq!(paging.took(3, Some("a")), 3);
        assert_eq!(paging.next_page(), Some(PageRequest { still_wanted: Some(2), token: Some("a") }));
        assert_eq!(paging.took(4, Some("b")), 2, "a page larger than asked for is cut");
        assert_eq!(paging.next_page(), None, "no request once enough are gathered");
        assert_eq!(ListPaging::new(Some(0)).next_page(), None);
    }

    #[test]
    fn a_server_repeating_the_token_it_was_sent_ends_the_listing() {
        let mut paging = ListPaging::new(None);
        paging.took(1, Some("a"));
        assert_eq!(paging.took(1, Some("a")), 1);
        assert_eq!(paging.next_page(), None);
    }

    #[test]
    fn a_server_going_round_a_cycle_of_tokens_ends_the_listing() {
        let mut paging = ListPaging::new(None);
        paging.took(1, Some("a"));
        paging.took(1, Some("b"));
        assert_eq!(paging.next_page().and_then(|next| next.token), Some("b"));
        assert_eq!(paging.took(1, Some("a")), 1, "the page's objects are kept");
        assert_eq!(paging.next_page(), None, "a -> b -> a would go round forever");
    }

    /// A server listing `names` objects in pages of the sizes `pages` says (cycled, capped at
    /// the page size asked for), failing the tries `failures` says before answering.
    fn list(names: u32, max_results: Option<u32>, pages: &[u32], failures: &[bool]) -> Vec<u32> {
        let mut paging = ListPaging::new(max_results);
        let mut listed = Vec::new();
        let (mut answers, mut tries) = (0, 0);
        while let Some(next) = paging.next_page() {
            tries += 1;
            assert!(tries <= (names as usize + 1) * pages.len() + failures.len(), "the listing loops");
            if failures.get(tries).copied().unwrap_or(false) {
                continue; // A transient failure: the same page is asked for again.
            }
            // A token is where the page ends, and which answer it was (as GCS's, never the same twice).
            let from: u32 = next.token.map_or(0, |token| token.split('.').next().unwrap().parse().unwrap());
            let size = pages[answers % pages.len()].min(next.still_wanted.unwrap_or(u32::MAX));
            answers += 1;
            let to = (from + size).min(names);
            let token = (to < names).then(|| text!(to, ".", answers));
            let kept = paging.took((to - from) as usize, token.as_deref());
            listed.extend((from..to).take(kept));
        }
        listed
    }

    proptest! {
        #[test]
        fn every_object_is_listed_once_in_order(
            names in 0u32..60,
            max_results in prop::option::of(0u32..70),
            pages in prop::collection::vec(0u32..10, 1..6),
            failures in prop::collection::vec(any::<bool>(), 0..20),
        ) {
            // Some page sizes must move on, or the server itself never ends.
            let pages: Vec<u32> = if pages.iter().all(|&size| size == 0) { vec![1] } else { pages };
            let expected: Vec<u32> = (0..names.min(max_results.unwrap_or(u32::MAX))).collect();
            prop_assert_eq!(list(names, max_results, &pages, &failures), expected);
        }
    }
}
