"""Messages of the visit-list exports (CSV/XLSX column names and the XLSX "about" sheet),
merged into :data:`serving.pages.i18n.MESSAGES` (key -> (zh, en))."""

from __future__ import annotations

EXPORT_MESSAGES: dict[str, tuple[str, str]] = {
    "export.col.rank": ("序号", "rank"),
    "export.col.household_ref": ("家庭编号", "household_ref"),
    "export.col.masked_name": ("户主（脱敏）", "masked_name"),
    "export.col.village_code": ("村编码", "village_code"),
    "export.col.band": ("风险等级", "band"),
    "export.col.probability": ("概率", "probability"),
    "export.col.top_reasons": ("主要原因", "top_reasons"),
    "export.col.gaps": ("可能符合但未享受的救助", "gaps"),
    "export.col.verify": ("走访时核实", "verify"),
    "export.col.exploration": ("探索", "exploration"),
    "export.col.model_version": ("模型版本", "model_version"),
    "export.col.purpose": ("用途", "purpose"),
    "export.sheet": ("走访名单", "visit list"),
    "export.about": ("说明", "about"),
    "export.about.jurisdiction": ("地区编码", "area code"),
    "export.about.village": ("村筛选", "village filter"),
    "export.about.as_of": ("评分日期", "as of"),
    "export.about.run": ("评分批次", "scoring run"),
    "export.about.generated": ("导出时间（UTC）", "exported at (UTC)"),
    "export.about.rows": ("行数", "rows"),
}
