//! RTF, read by hand: the `rtf-parser` crate (0.4.3, the one RTF crate
//! with recent releases) dropped every `\uN` character and the text after
//! it, and every paragraph break (`a\u1040?b\par` gave `a`), so this reads
//! the few parts of RTF that carry text: groups, control words, `\'hh`
//! bytes in the document's code page, `\uN` with its fallback characters
//! (and surrogate pairs), and the destinations that hold no body text
//! (font and colour tables, styles, pictures, fields' instructions, `\*`
//! groups), which are skipped. List numbering text (`\listtext`,
//! `\pntext`) becomes a `• `.

use crate::{ExtractError, Format};

/// Destinations whose text is not the document's.
const SKIPPED: &[&str] = &[
    "fonttbl",
    "colortbl",
    "stylesheet",
    "info",
    "pict",
    "object",
    "fldinst",
    "header",
    "headerl",
    "headerr",
    "headerf",
    "footer",
    "footerl",
    "footerr",
    "footerf",
    "themedata",
    "colorschememapping",
    "datastore",
    "latentstyles",
    "listtable",
    "listoverridetable",
    "rsidtbl",
    "generator",
    "xmlnstbl",
    "filetbl",
    "revtbl",
    "footnote",
    "annotation",
];

/// Deeper nesting than this is refused (a real document nests a few
/// dozen levels; the stack must stay bounded on hostile input).
const MAX_DEPTH: usize = 4096;

#[derive(Clone, Copy)]
struct Group {
    skip: bool,
    /// Fallback characters after each `\uN` (`\ucN`).
    uc: usize,
}

pub fn extract(bytes: &[u8]) -> Result<String, ExtractError> {
    let corrupt = |detail: &str| ExtractError::Corrupt {
        format: Format::Rtf,
        detail: detail.to_string(),
    };
    let mut encoding = encoding_rs::WINDOWS_1252;
    let mut out = String::new();
    // Bytes from `\'hh` waiting to be decoded together (multi-byte code pages).
    let mut pending: Vec<u8> = Vec::new();
    let mut high_surrogate: Option<u16> = None;
    let mut stack: Vec<Group> = Vec::new();
    let mut g = Group { skip: false, uc: 1 };
    // Fallback characters still to drop after a `\uN`.
    let mut drop = 0usize;
    let mut i = 0;
    let flush = |pending: &mut Vec<u8>, out: &mut String, enc: &'static encoding_rs::Encoding| {
        if !pending.is_empty() {
            out.push_str(&enc.decode_without_bom_handling(pending).0);
            pending.clear();
        }
    };
    while i < bytes.len() {
        let c = bytes[i];
        match c {
            b'{' => {
                flush(&mut pending, &mut out, encoding);
                if stack.len() >= MAX_DEPTH {
                    return Err(corrupt("its groups nest too deeply"));
                }
                stack.push(g);
                drop = 0;
                i += 1;
                // `{\*\dest …}`: a destination this reader may not know.
                if bytes[i..].starts_with(b"\\*") {
                    g.skip = true;
                }
            }
            b'}' => {
                flush(&mut pending, &mut out, encoding);
                g = stack
                    .pop()
                    .ok_or_else(|| corrupt("a group closes that never opened"))?;
                drop = 0;
                i += 1;
            }
            b'\\' => {
                i += 1;
                let Some(&n) = bytes.get(i) else { break };
                if n.is_ascii_alphabetic() {
                    let start = i;
                    while i < bytes.len() && bytes[i].is_ascii_alphabetic() && i - start < 32 {
                        i += 1;
                    }
                    let word = std::str::from_utf8(&bytes[start..i]).unwrap_or("");
                    let num_start = i;
                    if i < bytes.len() && bytes[i] == b'-' {
                        i += 1;
                    }
                    while i < bytes.len() && bytes[i].is_ascii_digit() && i - num_start < 11 {
                        i += 1;
                    }
                    let param: Option<i64> = std::str::from_utf8(&bytes[num_start..i])
                        .ok()
                        .and_then(|s| s.parse().ok());
                    if i < bytes.len() && bytes[i] == b' ' {
                        i += 1;
                    }
                    if word != "u" {
                        flush(&mut pending, &mut out, encoding);
                    }
                    // A control word standing for a character (`\bullet`)
                    // may be a `\uN`'s fallback: dropped then.
                    if drop > 0 && word != "u" && !SKIPPED.contains(&word) {
                        drop -= 1;
                        continue;
                    }
                    match word {
                        _ if SKIPPED.contains(&word) => g.skip = true,
                        "ansicpg" => {
                            if let Some(e) = code_page(param.unwrap_or(1252)) {
                                encoding = e;
                            }
                        }
                        "uc" => g.uc = param.unwrap_or(1).clamp(0, 8) as usize,
                        "u" => {
                            flush(&mut pending, &mut out, encoding);
                            let v = param.unwrap_or(0).rem_euclid(65536) as u16;
                            if !g.skip {
                                push_utf16(&mut out, &mut high_surrogate, v);
                            }
                            drop = g.uc;
                            continue;
                        }
                        "bin" => {
                            let n =
                                usize::try_from(param.unwrap_or(0).max(0)).unwrap_or(usize::MAX);
                            i = i.saturating_add(n).min(bytes.len());
                        }
                        "listtext" | "pntext" => {
                            if !g.skip {
                                out.push_str("• ");
                            }
                            g.skip = true;
                        }
                        _ if g.skip => {}
                        "par" | "line" | "sect" | "page" | "row" => out.push('\n'),
                        "tab" | "cell" => out.push('\t'),
                        "emdash" => out.push('—'),
                        "endash" => out.push('–'),
                        "bullet" => out.push('•'),
                        "lquote" => out.push('‘'),
                        "rquote" => out.push('’'),
                        "ldblquote" => out.push('“'),
                        "rdblquote" => out.push('”'),
                        "emspace" | "enspace" | "qmspace" => out.push(' '),
                        _ => {}
                    }
                    drop = 0;
                } else {
                    i += 1;
                    match n {
                        b'\'' => {
                            // Up to two hex digits (a short escape must not
                            // swallow the `}` after it).
                            let digits = bytes[i..]
                                .iter()
                                .take(2)
                                .take_while(|b| b.is_ascii_hexdigit())
                                .count();
                            let byte = std::str::from_utf8(&bytes[i..i + digits])
                                .ok()
                                .and_then(|h| u8::from_str_radix(h, 16).ok());
                            i += digits;
                            if drop > 0 {
                                drop -= 1;
                            } else if let (Some(b), false) = (byte, g.skip) {
                                pending.push(b);
                            }
                        }
                        _ if g.skip || drop > 0 => drop = drop.saturating_sub(1),
                        b'\\' | b'{' | b'}' => out.push(n as char),
                        b'~' => out.push('\u{a0}'),
                        b'_' => out.push('-'),
                        b'\n' | b'\r' => out.push('\n'),
                        _ => {}
                    }
                }
            }
            b'\n' | b'\r' => i += 1,
            _ => {
                // Plain text runs up to the next special byte.
                let start = i;
                while i < bytes.len() && !matches!(bytes[i], b'{' | b'}' | b'\\' | b'\n' | b'\r') {
                    i += 1;
                }
                let mut run = &bytes[start..i];
                let skip = drop.min(run.len());
                run = &run[skip..];
                drop -= skip;
                if !g.skip {
                    pending.extend_from_slice(run);
                    flush(&mut pending, &mut out, encoding);
                }
            }
        }
    }
    if !stack.is_empty() {
        return Err(corrupt("it ends before its groups close"));
    }
    if !bytes.starts_with(b"{\\rtf")
        && !crate::text::skip_bom_and_space(bytes).starts_with(b"{\\rtf")
    {
        return Err(corrupt("it does not start with {\\rtf"));
    }
    Ok(out)
}

/// The encoding of a Windows code page number (`\ansicpgN`).
fn code_page(n: i64) -> Option<&'static encoding_rs::Encoding> {
    use encoding_rs::*;
    Some(match n {
        932 => SHIFT_JIS,
        936 => GBK,
        949 => EUC_KR,
        950 => BIG5,
        65001 => UTF_8,
        10000 => MACINTOSH,
        n => return Encoding::for_label(format!("windows-{n}").as_bytes()),
    })
}

/// Appends a UTF-16 unit, pairing surrogates.
fn push_utf16(out: &mut String, high: &mut Option<u16>, v: u16) {
    match v {
        0xd800..=0xdbff => *high = Some(v),
        0xdc00..=0xdfff => {
            if let Some(h) = high.take() {
                out.extend(char::decode_utf16([h, v]).flatten());
            }
        }
        _ => {
            high.take();
            out.extend(char::from_u32(v as u32));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::extract;

    fn text(s: &str) -> String {
        extract(s.as_bytes()).unwrap()
    }

    #[test]
    fn reads_escapes_paragraphs_and_skips_tables() {
        assert_eq!(text(r"{\rtf1\ansi a\u1040?b\par}"), "aАb\n");
        assert_eq!(
            text(r"{\rtf1\ansi{\fonttbl{\f0 Arial;}}{\*\x junk}\'e9t\'e9\par x\tab y}"),
            "été\nx\ty"
        );
        assert_eq!(
            text(r"{\rtf1\uc2 \u8226\'95\'95 z\u-10179?\u-8704?}"),
            "• z😀"
        );
        assert_eq!(
            text(r"{\rtf1{\listtext\f1\'b7\tab}Python\par}"),
            "• Python\n"
        );
        assert_eq!(text(r"{\rtf1\ansi\ansicpg1251 \'c0\'ed\'ed\'e0}"), "Анна");
        assert!(extract(br"{\rtf1 unclosed {\b x}").is_err());
        assert!(extract(br"{\rtf1 x}}").is_err());
        assert_eq!(text(r"{\rtf1 a\'4}b"), "a\u{4}b");
        assert_eq!(text(r"{\rtf1 \u8226\bullet  x}"), "• x");
        assert_eq!(text(r"{\rtf1\ansi\ansicpg932 \'82\'a0}"), "あ");
        // Binary data past the end: refused, not read again from the start.
        assert!(extract(br"{\rtf1 a\bin4294967200 b}").is_err());
    }
}
