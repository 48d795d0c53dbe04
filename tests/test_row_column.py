"""A file that already has a ``source_row`` column (a cleaned table written back) reads, and the cleaning report
names the rows of this file, not the numbers in that column."""

from __future__ import annotations

from pathlib import Path

from segmentation.pipeline import load_transactions


def test_a_source_row_column_of_the_file_gives_way_to_this_files_rows(tmp_path: Path) -> None:
    path = tmp_path / "written_back.csv"
    path.write_text(
        "source_row,customer_id,date,product_id,quantity,unit_price\n"
        "900,a,2024-01-02,p1,1,2.0\n"
        "901,,2024-01-03,p2,1,2.0\n"
        "902,b,2024-01-04,p1,2,2.0\n"
    )
    result = load_transactions(path)
    assert result.transactions.num_rows == 2
    assert result.transactions.column("source_row").to_pylist() == [2, 4]
    assert result.cleaning.affected["source_row"].tolist() == [3]
