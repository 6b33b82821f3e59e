//! Bytes to text: byte-order marks, UTF-16 without a mark, UTF-8, and GBK as the fallback.

use std::borrow::Cow;

use encoding_rs::{Encoding, GBK, UTF_8, UTF_16BE, UTF_16LE};

/// The text encoding a file was read in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TextEncoding {
    /// UTF-8, with or without a byte-order mark.
    Utf8,
    /// UTF-16 little-endian (Google Ads' "CSV" download is UTF-16LE and tab-separated).
    Utf16Le,
    /// UTF-16 big-endian.
    Utf16Be,
    /// GBK / GB18030 (Chinese platforms' exports opened and saved in Excel).
    Gbk,
}

/// Decodes `bytes`, detecting the encoding.
///
/// Order: a byte-order mark decides; else a zero byte in most odd (even) positions of the
/// first 512 bytes means UTF-16LE (BE); else valid UTF-8 is UTF-8; else GBK. Returns the text
/// (BOM removed), the encoding, and whether malformed sequences were replaced by U+FFFD.
pub fn decode(bytes: &[u8]) -> (Cow<'_, str>, TextEncoding, bool) {
    if let Some((enc, bom_len)) = Encoding::for_bom(bytes) {
        let kind = kind_of(enc);
        let (text, had_errors) = enc.decode_without_bom_handling(&bytes[bom_len..]);
        return (text, kind, had_errors);
    }
    let head = &bytes[..bytes.len().min(512)];
    if head.len() >= 4 {
        let pairs = head.len() / 2;
        let odd_zero = (0..pairs).filter(|i| head[2 * i + 1] == 0).count();
        let even_zero = (0..pairs).filter(|i| head[2 * i] == 0).count();
        for (zeros, enc) in [(odd_zero, UTF_16LE), (even_zero, UTF_16BE)] {
            if zeros * 10 >= pairs * 4 {
                let (text, had_errors) = enc.decode_without_bom_handling(bytes);
                return (text, kind_of(enc), had_errors);
            }
        }
    }
    if let Ok(s) = std::str::from_utf8(bytes) {
        return (Cow::Borrowed(s), TextEncoding::Utf8, false);
    }
    let (text, had_errors) = GBK.decode_without_bom_handling(bytes);
    (text, TextEncoding::Gbk, had_errors)
}

fn kind_of(enc: &'static Encoding) -> TextEncoding {
    if enc == UTF_16LE {
        TextEncoding::Utf16Le
    } else if enc == UTF_16BE {
        TextEncoding::Utf16Be
    } else if enc == UTF_8 {
        TextEncoding::Utf8
    } else {
        TextEncoding::Gbk
    }
}

/// Encodes UTF-8 text as GBK bytes (for tests and fixtures); unmappable characters become
/// numeric character references, as encoding_rs does.
pub fn to_gbk(text: &str) -> Vec<u8> {
    GBK.encode(text).0.into_owned()
}

/// Encodes UTF-8 text as UTF-16LE with a byte-order mark, as Google Ads writes its CSV.
pub fn to_utf16le_bom(text: &str) -> Vec<u8> {
    let mut out = vec![0xFF, 0xFE];
    for u in text.encode_utf16() {
        out.extend_from_slice(&u.to_le_bytes());
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn detects_each_encoding() {
        let (t, e, bad) = decode("\u{feff}a,b".as_bytes());
        assert_eq!((t.as_ref(), e, bad), ("a,b", TextEncoding::Utf8, false));
        let bytes = to_utf16le_bom("Keyword\tClicks");
        let (t, e, _) = decode(&bytes);
        assert_eq!((t.as_ref(), e), ("Keyword\tClicks", TextEncoding::Utf16Le));
        let no_bom: Vec<u8> = "Keyword\tClicks"
            .encode_utf16()
            .flat_map(u16::to_le_bytes)
            .collect();
        assert_eq!(decode(&no_bom).1, TextEncoding::Utf16Le);
        let bytes = to_gbk("计划名称,点击量");
        let (t, e, bad) = decode(&bytes);
        assert_eq!(
            (t.as_ref(), e, bad),
            ("计划名称,点击量", TextEncoding::Gbk, false)
        );
    }
}
