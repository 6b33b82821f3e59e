//! `.xlsx` workbooks (feature `xlsx`): the first worksheet becomes CSV text, then the CSV path
//! reads it, so every rule is the same. Date cells become spreadsheet serial numbers.

use std::io::Cursor;

use calamine::{Data, Reader, Xlsx};

use crate::error::{Error, Result};

pub(super) fn to_csv(bytes: &[u8], file: &str) -> Result<String> {
    let bad = |reason: String| Error::Parse {
        file: file.to_string(),
        line: 0,
        column: String::new(),
        reason,
    };
    let mut wb: Xlsx<_> =
        Xlsx::new(Cursor::new(bytes)).map_err(|e| bad(format!("not a readable xlsx: {e}")))?;
    let range = wb
        .worksheet_range_at(0)
        .ok_or_else(|| bad("the workbook has no worksheet".into()))?
        .map_err(|e| bad(format!("unreadable worksheet: {e}")))?;
    let mut w = csv::Writer::from_writer(Vec::new());
    for row in range.rows() {
        let cells: Vec<String> = row
            .iter()
            .map(|c| match c {
                Data::DateTime(d) => d.as_f64().to_string(),
                other => other.to_string(),
            })
            .collect();
        w.write_record(&cells)
            .map_err(|e| bad(format!("cannot convert worksheet: {e}")))?;
    }
    let buf = w
        .into_inner()
        .map_err(|e| bad(format!("cannot convert worksheet: {e}")))?;
    String::from_utf8(buf).map_err(|e| bad(format!("cannot convert worksheet: {e}")))
}
