"""Township shocks: a sudden rise of unemployment or admissions where the household lives.

The rates are one shared query of the build (:func:`features.vectors.sources.area_sql`): new
events of the last 3 months against the 12 months before, over the township's households.
"""

from __future__ import annotations

from features.vectors.catalogue.declaration import MED, TOWNSHIP, UNEMP, Feature

FEATURES = (
    Feature(
        name="area_unemployment_shock",
        zh="乡镇失业登记激增倍数",
        en="township unemployment registrations vs usual",
        unit="ratio",
        group="area_shock",
        window="15m",
        sources=(UNEMP,),
        rows=TOWNSHIP,
        sql="MAX(unemp_shock)",
        dtype="float",
        direction=1,
        fill=1.0,
        reason_zh="所在乡镇近3个月新增失业登记为平时的 {value:.1f} 倍",
        reason_en="new unemployment registrations in the township are {value:.1f}x the usual rate",
        reason_zh_zero="所在乡镇近3个月无新增失业登记",
        reason_en_zero="no new unemployment registrations in the township in the last 3 months",
        note="(n_3m + 1/4) / 3 over (n_prev12 + 1) / 12, where n_3m counts new registrations "
        "in the last 3 months and n_prev12 in the 12 months before, over the township's current "
        "households; a quiet township reads 1.0",
    ),
    Feature(
        name="area_admissions_shock",
        zh="乡镇住院激增倍数",
        en="township inpatient admissions vs usual",
        unit="ratio",
        group="area_shock",
        window="15m",
        sources=(MED,),
        rows=TOWNSHIP,
        sql="MAX(adm_shock)",
        dtype="float",
        direction=1,
        fill=1.0,
        reason_zh="所在乡镇近3个月住院人次为平时的 {value:.1f} 倍",
        reason_en="inpatient admissions in the township are {value:.1f}x the usual rate",
        reason_zh_zero="所在乡镇近3个月无住院",
        reason_en_zero="no inpatient admissions in the township in the last 3 months",
        note="as `area_unemployment_shock`, with inpatient claims",
    ),
)
