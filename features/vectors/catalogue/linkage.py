"""Linkage quality: how sure the record links behind the household are."""

from __future__ import annotations

from features.vectors.catalogue.declaration import DERIVED, LINKS, Feature

FEATURES = (
    Feature(
        name="min_link_probability",
        zh="最低关联概率",
        en="lowest link probability",
        unit="probability",
        group="linkage",
        window="as_of",
        sources=("links", "memberships"),
        rows=LINKS,
        sql="MIN(p)",
        dtype="float",
        direction=0,
        fill=1.0,
        reason_zh="家庭数据最低关联概率为 {value:.2f}",
        reason_en="the weakest record link of the household has probability {value:.2f}",
        note="minimum over the members' membership links and every record link known by as-of; "
        "1.0 when all links are by ID",
    ),
    Feature(
        name="low_confidence_link",
        zh="存在低置信度关联",
        en="low-confidence link",
        unit="flag",
        group="linkage",
        window="as_of",
        sources=("links",),
        rows=DERIVED,
        sql="(min_link_probability < {low_confidence})",
        dtype="bool",
        reason_zh="家庭部分记录关联置信度较低，需人工核实",
        reason_en="some records are linked to the household with low confidence: check by hand",
        reason_zh_false="家庭记录关联可靠",
        reason_en_false="all records are linked with high confidence",
        note="`min_link_probability` below `features.linkage.LOW_CONFIDENCE` (0.99)",
    ),
)
