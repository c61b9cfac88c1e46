"""``refuse_repeated_rows``: a message whose rows repeat a key is refused, naming the first
repeat in both languages; a message without repeats passes."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from yibaodai.errors import ValidationFailed
from yibaodai.gateway.ingest import refuse_repeated_rows

WORDS = {"rows_zh": "日汇总行", "rows_en": "daily rows", "key_zh": "日期、险种、清算类别",
         "key_en": "setl_date, insutype and clr_type"}


@given(st.lists(st.tuples(st.integers(0, 5), st.sampled_from("ab")), max_size=30))
def test_the_first_repeat_is_named(keys: list[tuple[int, str]]) -> None:
    first = next((i for i, k in enumerate(keys) if k in keys[:i]), None)
    if first is None:
        refuse_repeated_rows(keys, **WORDS)
        return
    with pytest.raises(ValidationFailed) as caught:
        refuse_repeated_rows(keys, **WORDS)
    exc = caught.value
    assert exc.code == "duplicate_rows"
    assert [f.field for f in exc.fields] == [f"input.data[{first}]"]
    assert exc.message_zh == "同一报文中存在重复的日汇总行"
    assert exc.message_en == "duplicate daily rows in one message"
    assert exc.fields[0].message_zh.endswith("与前面的行日期、险种、清算类别相同")
    assert exc.fields[0].message_en.endswith("same setl_date, insutype and clr_type as an "
                                             "earlier row")
