"""The charts' numbers tables written in Python (intimacy/templatetags/chart_tables.py)."""

from intimacy.templatetags.chart_tables import chart_table_rows


def test_rows_as_the_template_wrote_them():
    # Worked by hand: the bucket is the row's header, each value a cell, None shown as "–", a float as
    # {{ v }} writes it in English, and text escaped.
    chart = {"rows": [["Dec 2024", 3, None, 6.5], ["<b>Jan</b>", 0, 2, None]]}
    assert str(chart_table_rows(chart)) == (
        '<tr><th scope="row">Dec 2024</th><td>3</td><td>–</td><td>6.5</td></tr>'
        '<tr><th scope="row">&lt;b&gt;Jan&lt;/b&gt;</th><td>0</td><td>2</td><td>–</td></tr>'
    )
