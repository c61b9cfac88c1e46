"""The import report as Excel: a summary sheet, then the refused rows, the warnings and the
merged rows, each with its sheet row number so staff can find it in their file. Built from the
report as stored with the import (``list_imports.report``), so the platform can serve it again
at any time."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from yibaodai.marketing.excel import XlsxColumn, XlsxSheet, workbook

_ISSUES = (XlsxColumn("行号", 8, "int"), XlsxColumn("字段", 16), XlsxColumn("代码", 20),
           XlsxColumn("原因", 90))
_MERGES = (XlsxColumn("行号", 8, "int"), XlsxColumn("并入行", 8, "int"),
           XlsxColumn("依据", 16), XlsxColumn("相似度", 10, "int"),
           XlsxColumn("名称相似度", 12, "int"), XlsxColumn("地址相似度", 12, "int"))
_REASONS = {"fixmedins_code": "医保编码相同", "uscc": "信用代码相同",
            "name_address": "名称和地址相近"}


def import_report_xlsx(report: dict[str, Any], *, produced_by: str,
                       produced_at: datetime) -> bytes:
    summary = [("文件 file", report["file"]), ("工作表 sheet", report["sheet"]),
               ("读取行数 read", report["read"]), ("新增 new", report["new"]),
               ("更新 updated", report["updated"]), ("合并 merged", report["merged"]),
               ("拒绝 refused", len(report["refused"])),
               ("警告 warnings", len(report["warnings"])),
               ("关联已知机构 linked institutions", report["linked"].get("institutions", 0)),
               ("已有案件 with cases", report["linked"].get("cases", 0)),
               ("已有贷款 with loans", report["linked"].get("loans", 0)),
               ("匹配规则版本 matching version", report["matching_version"])]

    def issues(items: list[dict[str, Any]]) -> list[tuple[Any, ...]]:
        return [(i["row"], i["field"], i["code"], i["reason"]) for i in items]

    merges = [(m["row"], m["into_row"], _REASONS.get(m["reason"], m["reason"]), m["score"],
               m["name_score"], m["address_score"]) for m in report["merges"]]
    return workbook([
        XlsxSheet("汇总", f"名单导入报告 — 第{report['import_id']}次导入",
                  (XlsxColumn("项目", 34), XlsxColumn("值", 50)),
                  [(k, str(v)) for k, v in summary]),
        XlsxSheet("拒绝", "未导入的行 Refused rows", _ISSUES, issues(report["refused"])),
        XlsxSheet("警告", "已导入但有问题的值 Warnings", _ISSUES, issues(report["warnings"])),
        XlsxSheet("合并", "合并的重复行 Merged rows", _MERGES, merges),
    ], produced_by=produced_by, produced_at=produced_at)
