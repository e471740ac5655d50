use chdb_rust::connection::Connection;
use chdb_rust::format::OutputFormat;
fn main() {
    chdb_rust::runtime::signal_handlers(false);
    let dir = std::env::args().nth(1).unwrap();
    let mut conn = Connection::open(&[&format!("--path={dir}")]).unwrap();
    let sql = std::env::args().nth(2).unwrap();
    let mut s = conn
        .query_stream(&sql, OutputFormat::RowBinaryWithNamesAndTypes)
        .unwrap();
    while let Some(c) = s.next_chunk().unwrap() {
        let d = c.data_ref();
        println!(
            "chunk len {} rows_read {} head {:?}",
            d.len(),
            c.rows_read(),
            &d[..d.len().min(40)]
        );
    }
}
