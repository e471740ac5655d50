use chdb_rust::connection::Connection;
use chdb_rust::format::OutputFormat;
fn main() {
    chdb_rust::runtime::signal_handlers(false);
    let dir = std::env::args().nth(1).unwrap();
    let conn = Connection::open(&[&format!("--path={dir}")]).unwrap();
    let stdin = std::io::read_to_string(std::io::stdin()).unwrap();
    for q in stdin.split(";;\n") {
        let q = q.trim();
        if q.is_empty() { continue; }
        let t = std::time::Instant::now();
        let (fmt, q) = if let Some(r) = q.strip_prefix("RB ") { (OutputFormat::RowBinaryWithNamesAndTypes, r) } else { (OutputFormat::TabSeparatedWithNames, q) };
        match conn.query(q, fmt) {
            Ok(r) => {
                let d = r.data_ref();
                if matches!(fmt, OutputFormat::RowBinaryWithNamesAndTypes) { println!("> {q}\n{:?} ({:?})", d, t.elapsed()); }
                else { println!("> {q}\n{}({:?})", String::from_utf8_lossy(d), t.elapsed()); }
            }
            Err(e) => println!("> {q}\nERR {e}"),
        }
    }
}
