//! Whether a search query matches a keyword.
//!
//! # Rules
//! - **Tokenisation**: text is lower-cased (Unicode) and split into tokens. A token is a run of
//!   letters, digits, `'`, or `-` joined to letters (so `t-shirt` and `kid's` stay whole); every
//!   other character separates tokens. Each CJK ideograph, kana or hangul syllable is a token of
//!   its own, because Chinese and Japanese queries have no spaces: `连衣裙` is three tokens, so
//!   phrase match on `连衣裙` works as substring match does on marketplaces.
//! - **Exact**: the query's tokens equal the keyword's tokens, in order.
//! - **Phrase**: the keyword's tokens appear in the query contiguously and in order.
//! - **Broad**: every keyword token appears somewhere in the query, in any order. (Platforms
//!   also match synonyms and related searches; that needs their models and is not done here.
//!   The simulator models broad match's extra reach statistically instead.)
//! - **Negatives**: a plan's negative keywords are matched against the query with their own
//!   match type; a query that matches any negative is excluded from the whole plan.
//! - A keyword with no tokens matches nothing. A query with no tokens matches nothing.
//!
//! ```
//! use adbandit::{MatchType, matching::matches};
//! assert!(matches("red dress", MatchType::Exact, "Red  Dress"));
//! assert!(!matches("red dress", MatchType::Exact, "dress red"));
//! assert!(matches("red dress", MatchType::Phrase, "long red dress sale"));
//! assert!(!matches("red dress", MatchType::Phrase, "red summer dress"));
//! assert!(matches("red dress", MatchType::Broad, "dress in red"));
//! assert!(matches("连衣裙", MatchType::Phrase, "夏季连衣裙女"));
//! ```

use crate::model::account::{MatchType, NegativeKeyword};

/// Whether `c` is a character that is a token by itself (CJK ideographs, kana, hangul).
fn is_cjk(c: char) -> bool {
    matches!(c as u32,
        0x3040..=0x30FF      // hiragana, katakana
        | 0x3400..=0x4DBF    // CJK extension A
        | 0x4E00..=0x9FFF    // CJK unified ideographs
        | 0xAC00..=0xD7AF    // hangul syllables
        | 0xF900..=0xFAFF    // CJK compatibility ideographs
        | 0x20000..=0x2FFFF) // CJK extensions B+
}

/// Splits `text` into lower-case tokens under the rules in the module docs.
pub fn tokenize(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    for ch in text.chars().flat_map(char::to_lowercase) {
        if is_cjk(ch) {
            if !cur.is_empty() {
                out.push(std::mem::take(&mut cur));
            }
            out.push(ch.to_string());
        } else if ch.is_alphanumeric() || ((ch == '\'' || ch == '-') && !cur.is_empty()) {
            cur.push(ch);
        } else if !cur.is_empty() {
            out.push(std::mem::take(&mut cur));
        }
    }
    if !cur.is_empty() {
        out.push(cur);
    }
    // A trailing joiner ("rock-") is punctuation, not part of the word.
    for t in &mut out {
        while t.ends_with(['\'', '-']) {
            t.pop();
        }
    }
    out.retain(|t| !t.is_empty());
    out
}

/// Whether pre-tokenised `query` matches pre-tokenised `keyword` under `match_type`.
pub fn matches_tokens(keyword: &[String], match_type: MatchType, query: &[String]) -> bool {
    if keyword.is_empty() || query.is_empty() {
        return false;
    }
    match match_type {
        MatchType::Exact => keyword == query,
        MatchType::Phrase => query.windows(keyword.len()).any(|w| w == keyword),
        MatchType::Broad => keyword.iter().all(|k| query.contains(k)),
    }
}

/// Whether `query` matches `keyword` under `match_type`.
pub fn matches(keyword: &str, match_type: MatchType, query: &str) -> bool {
    matches_tokens(&tokenize(keyword), match_type, &tokenize(query))
}

/// Whether `query` matches `keyword` under `match_type` and none of `negatives`.
pub fn matches_with_negatives(
    keyword: &str,
    match_type: MatchType,
    negatives: &[NegativeKeyword],
    query: &str,
) -> bool {
    let q = tokenize(query);
    matches_tokens(&tokenize(keyword), match_type, &q)
        && !negatives
            .iter()
            .any(|n| matches_tokens(&tokenize(&n.text), n.match_type, &q))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokenisation_rules() {
        assert_eq!(
            tokenize("  Kid's T-Shirt, 2-pack! "),
            ["kid's", "t-shirt", "2-pack"]
        );
        assert_eq!(tokenize("iPhone15手机壳"), ["iphone15", "手", "机", "壳"]);
        assert_eq!(tokenize("--- ..."), Vec::<String>::new());
        assert_eq!(tokenize("rock- roll"), ["rock", "roll"]);
        assert_eq!(tokenize("ÉTÉ robe"), ["été", "robe"]);
    }

    #[test]
    fn match_types() {
        use MatchType::*;
        assert!(matches("running shoes", Exact, "RUNNING shoes"));
        assert!(!matches("running shoes", Exact, "running shoes men"));
        assert!(matches("running shoes", Phrase, "best running shoes men"));
        assert!(!matches("running shoes", Phrase, "shoes running"));
        assert!(matches("running shoes", Broad, "shoes for running"));
        assert!(!matches("running shoes", Broad, "running socks"));
        assert!(!matches("", Broad, "anything"));
        assert!(!matches("x", Broad, ""));
    }

    #[test]
    fn negatives_exclude() {
        let negs = vec![
            NegativeKeyword {
                text: "free".into(),
                match_type: MatchType::Broad,
            },
            NegativeKeyword {
                text: "second hand".into(),
                match_type: MatchType::Phrase,
            },
        ];
        let f = |q| matches_with_negatives("shoes", MatchType::Broad, &negs, q);
        assert!(f("running shoes"));
        assert!(!f("free shoes"));
        assert!(!f("second hand shoes"));
        assert!(f("hand second shoes")); // phrase negative needs the order
    }
}
