"""The pages' message catalogue: every string of the web pages in Chinese and English.

Chinese is the default; ``?lang=en`` switches to English and a ``lang`` cookie remembers the
choice (:func:`pick_lang`). Household data (reasons, eligibility traces, what to verify) already
comes in both languages from the stored data; program names come from the rules
(:func:`program_name`).

Example:
    >>> t = translator("en")
    >>> t("band.high")
    'high'
    >>> translator("zh")("nav.signout")
    '退出登录'
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from functools import cache

from serving.pages.i18n_export import EXPORT_MESSAGES
from serving.pages.i18n_field import FIELD_MESSAGES
from serving.pages.i18n_linkage import LINKAGE_MESSAGES
from serving.pages.i18n_twin import TWIN_MESSAGES

LANGS = ("zh", "en")
DEFAULT_LANG = "zh"
HTML_LANG = {"zh": "zh-CN", "en": "en"}

# key -> (zh, en); placeholders use str.format names and must match in both languages
MESSAGES: Mapping[str, tuple[str, str]] = {
    # frame
    "app.name": ("主动救助走访系统", "Outreach"),
    "app.skip": ("跳到正文", "Skip to content"),
    "nav.label": ("主导航", "Main navigation"),
    "nav.home": ("首页", "Home"),
    "nav.lists": ("走访名单", "Visit lists"),
    "nav.audit": ("审计", "Audit"),
    "nav.model": ("模型", "Model"),
    "nav.signout": ("退出登录", "Sign out"),
    "nav.lang": ("语言", "Language"),
    "nav.signed_in_as": ("当前身份：{role}", "Signed in as {role}"),
    "purpose.statement": (
        "建议走访，主动发现、主动救助。仅用于提供帮助：绝不作为减少、暂停或追回任何待遇的依据。",
        "Proposed visits to offer assistance. For proposing help only: never a ground to "
        "reduce, suspend or reclaim a benefit.",
    ),
    "footer.request_id": ("请求编号：{rid}", "Request id: {rid}"),
    "footer.purpose": (
        "本系统只用于主动发现需要帮助的家庭、上门了解情况，绝不作为减少、暂停或追回任何待遇的依据。",
        "This system only proposes visits to offer help; it is never a ground to reduce, "
        "suspend or reclaim a benefit.",
    ),
    "role.caseworker": ("社工", "caseworker"),
    "role.supervisor": ("督导", "supervisor"),
    "role.auditor": ("审计员", "auditor"),
    "role.data_scientist": ("数据分析员", "data scientist"),
    "role.unknown": ("未识别", "unidentified"),  # a refused caller without a valid token
    "yes": ("是", "yes"),
    "no": ("否", "no"),
    "unknown": ("未知", "unknown"),
    "none": ("无", "none"),
    # sign-in
    "signin.title": ("登录", "Sign in"),
    "signin.intro": (
        "请输入管理员用 outreach 命令行为您创建的访问令牌。",
        "Enter the access token your administrator created for you (outreach token create).",
    ),
    "signin.token": ("访问令牌", "Access token"),
    "signin.submit": ("登录", "Sign in"),
    "signin.error": (
        "令牌无效、已过期或已撤销。",
        "The token is invalid, expired or revoked.",
    ),
    # errors
    "error.title": ("出错了", "Something went wrong"),
    "error.403.title": ("无权访问", "Not allowed"),
    "error.403.body": (
        "您的角色不能访问此页面。",
        "Your role may not open this page.",
    ),
    "error.404.title": ("未找到", "Not found"),
    "error.404.body": (
        "没有找到该页面，或它不在您的工作范围内。",
        "There is no such page, or it is outside your area.",
    ),
    "error.csrf.title": ("请求被拒绝", "Request refused"),
    "error.csrf.body": (
        "表单已过期或来源无法核实，未做任何更改。请返回页面刷新后重试。",
        "The form expired or its origin could not be verified; nothing was changed. Go back, "
        "reload the page and try again.",
    ),
    "error.422.title": ("输入有误", "Invalid input"),
    "error.422.body": (
        "请求无法处理，未做任何更改。",
        "The request could not be read; nothing was changed.",
    ),
    "error.503.title": ("暂时无法提供服务", "Service unavailable"),
    "error.503.body": (
        "审计日志暂时无法写入，因此没有显示任何数据。请稍后重试。",
        "The audit log cannot be written, so nothing was shown. Please try again later.",
    ),
    "error.back_home": ("返回首页", "Back to the home page"),
    # form errors
    "form.error.missing": ("{field}：必填", "{field}: required"),
    "form.error.date": ("{field}：日期格式应为 年-月-日", "{field}: a date as YYYY-MM-DD"),
    "form.error.future": (
        "{field}：走访日期不能晚于今天",
        "{field}: a visit cannot be in the future",
    ),
    "form.error.too_old": (
        "{field}：只能登记一年（366 天）内的走访",
        "{field}: a visit is recorded within 366 days",
    ),
    "form.error.choice": ("{field}：请从列表中选择", "{field}: choose one of the options"),
    "form.error.too_long": ("{field}：内容过长", "{field}: too long"),
    "form.error.id_number": (
        "{field}：不得填写身份证号码",
        "{field}: must not contain an ID number",
    ),
    "form.error.programs_need": (
        "{field}：只有“确有困难”的走访结果才能登记开始的救助项目",
        "{field}: only an 'in need' outcome starts programs",
    ),
    "form.error.unknown_program": ("{field}：未知的救助项目", "{field}: unknown program"),
    "form.error.invalid": ("{field}：无效", "{field}: invalid"),
    "form.error.unreadable": ("表单内容无法读取", "The form could not be read"),
    # lists
    "lists.intro": (
        "最近一次评分（{as_of}）中您工作范围内的乡镇与村。",
        "Townships and villages in your area in the latest scoring run ({as_of}).",
    ),
    "list.meta": (
        "评分日期 {as_of} · 模型版本 {version} · 共 {n} 户",
        "As of {as_of} · model version {version} · {n} households",
    ),
    "list.exploration_note": (
        "标有“探索”的家庭为随机抽取，用于检验模型，同样值得走访。",
        "Households marked 'exploration' were drawn at random to check the model; they are "
        "worth a visit too.",
    ),
    "exploration.mark": ("探索", "exploration"),
    "household.open": ("查看家庭 {ref}", "Open household {ref}"),
    "low_confidence": ("部分记录匹配置信度较低", "some records linked with low confidence"),
    # bands
    "band.high": ("高", "high"),
    "band.elevated": ("较高", "elevated"),
    "band.low": ("低", "low"),
    # print
    "field.ref": ("家庭编号", "Household reference"),
    "field.village": ("村编码", "Village code"),
    "field.model": ("模型版本 · 评分日期", "Model version · as of"),
    "print.hint": (
        "每户一页。使用浏览器的打印功能打印。",
        "One page per household. Use the browser's print command.",
    ),
    # household
    "hh.title": ("家庭 {ref}", "Household {ref}"),
    "hh.name": ("户主（脱敏）", "Head (masked)"),
    "hh.area": ("乡镇 {township} · 村 {village}", "Township {township} · village {village}"),
    "hh.score": ("风险评分", "Risk score"),
    "hh.score_line": (
        "{band} · {p} · 模型版本 {version}",
        "{band} · {p} · model version {version}",
    ),
    "hh.source.stored": ("评分时保存的解释", "explanation stored at scoring time"),
    "hh.source.on_demand": ("按当前模型即时计算", "computed now with the current model"),
    "hh.explanation": ("评分解释", "Why this score"),
    "hh.no_explanation": ("暂无解释。", "No explanation available."),
    "hh.eligibility": ("救助项目资格", "Eligibility for assistance programs"),
    "hh.program": ("项目", "Program"),
    "hh.status": ("判断", "Assessment"),
    "hh.receiving": ("正在享受", "Receiving"),
    "hh.gap": ("缺口", "Gap"),
    "hh.trace": ("判断依据", "Reasons (trace)"),
    "hh.trace_of": ("{program} 的判断依据", "Reasons for {program}"),
    "hh.verify": ("走访时核实", "Verify on the visit"),
    "hh.nothing_to_verify": ("无需额外核实。", "Nothing in particular to verify."),
    "hh.history": ("评分历史", "Score history"),
    "hh.as_of": ("评分日期", "As of"),
    "hh.model_version": ("模型版本", "Model version"),
    "hh.listed_in": ("列入名单", "Listed in"),
    "hh.visits": ("走访记录", "Visits"),
    "hh.no_visits": ("尚无走访记录。", "No visit recorded yet."),
    "hh.visit_date": ("走访日期", "Visit date"),
    "hh.outcome": ("走访结果", "Outcome"),
    "hh.programs_started": ("已开始的救助项目", "Programs started"),
    "hh.note": ("备注", "Note"),
    "hh.recorded_by": ("记录人（令牌编号）", "Recorded by (token id)"),
    "hh.corrections": ("数据更正", "Data corrections"),
    "hh.no_corrections": ("尚无更正。", "No correction flagged."),
    "hh.item": ("数据项", "Data item"),
    "hh.reference": ("来源或字段", "Source or field"),
    "hh.correction": ("正确情况", "What is right"),
    "hh.reason": ("依据", "How you know"),
    "hh.status_col": ("状态", "Status"),
    "hh.outcome_form": ("登记走访结果", "Record the visit outcome"),
    "hh.correction_form": ("报告数据错误", "Flag a data correction"),
    "hh.correction_help": (
        "更正不会修改原始部门记录，下一次评分时生效。",
        "A correction never alters an agency's record; the next scoring run applies it.",
    ),
    "hh.item_help": (
        "填写 vehicle、property 或 business（登记的车辆、不动产或市场主体不属于该户）时，"
        "下一次评分会据此更正；其他内容记录备查。",
        "vehicle, property or business (the registered ones are not the household's) are "
        "applied by the next scoring run; anything else is recorded for review.",
    ),
    "item.vehicle": ("登记的车辆不属于该户", "the registered vehicles are not the household's"),
    "item.property": ("登记的不动产不属于该户", "the registered properties are not theirs"),
    "item.business": ("登记的市场主体不属于该户", "the registered businesses are not theirs"),
    "hh.note_help": ("请勿填写身份证号码。", "Do not write ID numbers."),
    "hh.save": ("保存", "Save"),
    "hh.saved.outcome": ("走访结果已保存。", "The visit outcome was saved."),
    "hh.saved.correction": ("更正已提交。", "The correction was flagged."),
    "outcome.visited": ("已走访", "visited"),
    "outcome.not_found": ("未找到", "not found"),
    "outcome.in_need": ("确有困难", "in need"),
    "outcome.not_in_need": ("暂无困难", "not in need"),
    "status.likely": ("很可能符合", "likely qualifies"),
    "status.needs_verification": ("需核实", "needs verification"),
    "status.not_eligible": ("不符合", "not eligible"),
    "gap.likely": ("很可能符合但未享受", "likely, not receiving"),
    "gap.verify": ("需核实，未享受", "to verify, not receiving"),
    "correction.open": ("待处理", "open"),
    "correction.applied": ("已应用", "applied"),
    "correction.rejected": ("已驳回", "rejected"),
    # charts
    "chart.waterfall.title": (
        "评分解释：各因素的贡献（SHAP）",
        "Score explanation: contributions (SHAP)",
    ),
    "chart.waterfall.axis": ("对数几率（log-odds）", "log-odds"),
    "chart.waterfall.base": ("基准值（平均）", "base value (average)"),
    "chart.waterfall.other": ("其他因素合计", "all other features"),
    "chart.waterfall.score": ("本户评分", "this household's score"),
    "chart.waterfall.score_p": ("本户评分（概率 {p}）", "this household (probability {p})"),
    "chart.waterfall.desc": (
        "从基准值 {base} 开始，各因素依次加减，得到对数几率 {raw}，校准后概率为 {p}。",
        "From the base value {base}, each feature adds or subtracts, reaching {raw} in "
        "log-odds; calibrated probability {p}.",
    ),
    "chart.waterfall.table": ("贡献明细（对数几率）", "Contributions (log-odds)"),
    "chart.feature": ("因素", "Feature"),
    "chart.contribution": ("贡献", "Contribution"),
    "chart.importance.title": (
        "全局重要性：平均 |SHAP|（对数几率）",
        "Global importance: mean |SHAP| (log-odds)",
    ),
    "chart.importance.axis": ("平均绝对贡献（对数几率）", "mean absolute contribution (log-odds)"),
    "chart.importance.desc": (
        "测试集抽样家庭上各因素平均绝对 SHAP 值最大的 {n} 项。",
        "The {n} features with the largest mean absolute SHAP value on sampled test households.",
    ),
    "chart.calibration.title": ("校准：预测概率与实际发生率", "Calibration: predicted vs observed"),
    "chart.calibration.x": ("预测概率", "predicted probability"),
    "chart.calibration.y": ("实际发生率（拟合）", "observed rate (fitted)"),
    "chart.calibration.diagonal": ("完全校准", "perfect calibration"),
    "chart.calibration.desc": (
        "可靠性图：测试集按预测概率分为 10 个等量分组，横轴为组内平均预测概率，纵轴为实际发生率"
        "（旧版本模型未记录分组时，画其校准斜率和截距确定的逻辑校准曲线）；对角线为完全校准。",
        "Reliability diagram: the test split in 10 equal-mass bins of the predicted probability, "
        "mean prediction against the observed rate (for a model that did not log bins, the "
        "logistic calibration curve its slope and intercept define); the diagonal is perfect "
        "calibration.",
    ),
    "chart.recall.title": ("按乡镇容量的召回率", "Recall at per-township capacity"),
    "chart.recall.x": (
        "容量：每个乡镇前百分之几的家庭",
        "capacity: top % of each township's households",
    ),
    "chart.recall.y": ("召回率（可观测标签）", "recall (observable label)"),
    "chart.recall.desc": (
        "每个乡镇按评分取前若干比例的家庭时，找到的后续困难家庭占全部的比例：模型与基线比较。",
        "Share of the households that later fell into hardship found when each township visits "
        "its top share by score: the model against the baselines.",
    ),
    "scorer.model": ("模型", "model"),
    "scorer.rules": ("规则基线", "rules baseline"),
    "scorer.logistic": ("逻辑回归基线", "logistic baseline"),
    "scorer.oracle": ("真实概率（模拟）", "true probability (simulation)"),
    # audit
    "audit.title": ("审计", "Audit"),
    "audit.intro": (
        "审计员可以查看模型、任何家庭的评分历史及其解释，以及审计日志。",
        "Auditors can read the model, any household's score history with its explanation, and "
        "the audit log.",
    ),
    "audit.model_link": ("模型卡、评估与漂移", "Model card, evaluation and drift"),
    "audit.log_link": ("审计日志", "Audit log"),
    "audit.household_lookup": ("查看家庭评分历史", "A household's score history"),
    "audit.household_ref": ("家庭编号", "Household reference"),
    "audit.open": ("查看", "Open"),
    "model.title": ("模型 {version}", "Model {version}"),
    "model.none": ("尚未加载模型。", "No model is loaded."),
    "model.card": ("模型卡", "Model card"),
    "model.card_missing": ("该版本没有模型卡。", "This version has no model card."),
    "model.importance": ("全局重要性", "Global importance"),
    "model.calibration": ("校准", "Calibration"),
    "model.recall": ("容量召回率", "Recall at capacity"),
    "model.fairness": ("公平性", "Fairness"),
    "model.fairness_caption": (
        "容量 {capacity} 时各人群的召回率（可观测标签）",
        "Recall by population group at capacity {capacity} (observable label)",
    ),
    "model.fairness_flagged": ("所有容量下被标记的单元格", "Flagged cells at every capacity"),
    "model.drift": ("数据漂移", "Drift"),
    "model.drift_intro": (
        "最近一次评分（{as_of}）的数据与模型训练时参考分布的对比（PSI）。",
        "The latest scoring run's data ({as_of}) against the model's reference distributions "
        "(PSI).",
    ),
    "model.drift_none": (
        "无法计算漂移（缺少快照或参考分布）。",
        "Drift cannot be computed (no snapshot or reference distributions).",
    ),
    "model.evaluation_missing": ("该版本没有评估报告。", "This version has no evaluation report."),
    "model.metric": ("指标", "Metric"),
    "model.brier": ("Brier 分数", "Brier score"),
    "model.ece": ("期望校准误差（ECE）", "ECE"),
    "model.slope": ("校准斜率", "calibration slope"),
    "model.intercept": ("校准截距", "calibration intercept"),
    "model.scorer": ("评分方式", "Score"),
    "model.card_intro": (
        "模型卡原文为英文，由训练流程生成，以下按原文照录。",
        "The model card is written by the training run; it is shown as logged.",
    ),
    "model.fairness_summary": (
        "{total} 个人群 × 容量单元格中有 {flagged} 个的召回率低于总体召回率的 {ratio} 倍"
        "（其中 {few} 个正例少于 {min_positives} 个）。",
        "{flagged} of {total} group-capacity cells have recall below {ratio} × the overall "
        "recall ({few} of them with fewer than {min_positives} positives).",
    ),
    "model.drift_summary": (
        "共比较 {n_features} 个因素（本次 {n_current} 户，参考 {n_reference} 户）；"
        "评分的 PSI 为 {score_psi}（{score_band}）。",
        "{n_features} features compared ({n_current} households now, {n_reference} in the "
        "reference); the score's PSI is {score_psi} ({score_band}).",
    ),
    "model.drift_summary_noscore": (
        "共比较 {n_features} 个因素（本次 {n_current} 户，参考 {n_reference} 户）。",
        "{n_features} features compared ({n_current} households now, {n_reference} in the "
        "reference).",
    ),
    "fair.group": ("人群维度", "Group"),
    "fair.value": ("取值", "Value"),
    "fair.capacity": ("容量", "Capacity"),
    "fair.n": ("家庭数", "Households"),
    "fair.positives": ("正例", "Positives"),
    "fair.recall": ("召回率", "Recall"),
    "fair.recall_ci": ("95% 区间", "95 % interval"),
    "fair.ratio": ("与总体之比", "Ratio to overall"),
    "fair.flag": ("标记", "Flag"),
    "fair.flag_low": ("召回偏低", "low recall"),
    "fair.few": ("正例过少", "few positives"),
    "fairgroup.hukou": ("户籍", "hukou"),
    "fairgroup.head_sex": ("户主性别", "head's sex"),
    "fairgroup.head_age_band": ("户主年龄段", "head's age band"),
    "fairgroup.has_disability": ("有残疾成员", "has a disabled member"),
    "fairgroup.township_code": ("乡镇", "township"),
    "drift.feature": ("因素", "Feature"),
    "drift.psi": ("PSI", "PSI"),
    "drift.band": ("程度", "Band"),
    "drift.score": ("（评分）", "(score)"),
    "drift.stable": ("稳定", "stable"),
    "drift.moderate": ("中等", "moderate"),
    "drift.major": ("显著", "major"),
    "drift.caption": ("PSI 最大的因素", "Features with the largest PSI"),
    "ah.title": ("家庭 {ref} 的评分历史", "Score history of household {ref}"),
    "ah.run": ("评分批次 {as_of} · 模型版本 {version}", "Run of {as_of} · model version {version}"),
    "ah.live": (
        "本批次未保存解释；以下解释由当前模型（版本 {version}）即时计算。",
        "This run stored no explanation; the one below was computed now with the current model "
        "(version {version}).",
    ),
    "ah.none": ("没有评分记录。", "No score recorded."),
    "log.title": ("审计日志", "Audit log"),
    "log.filter": ("筛选", "Filter"),
    "log.actor": ("操作人（令牌编号）", "Actor (token id)"),
    "log.holder": ("持有人", "Holder"),
    "log.role": ("角色", "Role"),
    "log.action": ("操作", "Action"),
    "log.resource": ("资源", "Resource"),
    "log.household": ("家庭编号", "Household reference"),
    "log.from": ("起始日期", "From"),
    "log.to": ("截止日期", "To"),
    "log.any": ("全部", "any"),
    "log.apply": ("筛选", "Apply"),
    "log.caption": ("审计日志（最新在前）", "Audit log (newest first)"),
    "log.at": ("时间（UTC）", "Time (UTC)"),
    "log.jurisdiction": ("地区", "Area"),
    "log.purpose": ("用途", "Purpose"),
    "log.request": ("请求编号", "Request id"),
    "log.older": ("更早的记录", "Older entries"),
    "log.empty": ("没有符合条件的记录。", "No entry matches."),
    "log.read": ("读取", "read"),
    "log.write": ("写入", "write"),
    # --- issue 14 (model page: fairness decomposition); owned by the model/evaluation engineer
    "model.decomposition": (
        "公平性分解：可达召回率 × 排序效率",
        "Fairness decomposed: achievable recall × ranking efficiency",
    ),
    "model.decomposition_intro": (
        "可达召回率：在各乡镇名单容量下，完美排序能找到的比例；排序效率 = 召回率 ÷ 可达召回率。"
        "召回率低而可达召回率高，是排序的问题，不是容量的问题。区间为重建名单的自助法 95% 区间。"
        "标签：{label}。",
        "Achievable recall: what a perfect ranking would reach under each township's list "
        "capacity; ranking efficiency = recall ÷ achievable recall. Low recall with high "
        "achievable recall is a ranking failure, not a capacity limit. Intervals: 95 % "
        "bootstrap that rebuilds the lists. Label: {label}.",
    ),
    "model.decomposition_caption": (
        "名单容量 {capacity}：全县、户籍与各乡镇",
        "List capacity {capacity}: county, hukou and townships",
    ),
    "decomp.group": ("范围", "Scope"),
    "decomp.positives": ("阳性户数", "Positives"),
    "decomp.recall": ("召回率 [95%区间]", "Recall [95 % CI]"),
    "decomp.achievable": ("可达召回率 [95%区间]", "Achievable recall [95 % CI]"),
    "decomp.efficiency": ("排序效率 [95%区间]", "Ranking efficiency [95 % CI]"),
    "decomp.county_list": ("全县统一名单召回率", "Recall on one county-wide list"),
    "decomp.county": ("全县", "County"),
    "decomp.urban": ("城镇户籍", "Urban hukou"),
    "decomp.rural": ("农村户籍", "Rural hukou"),
    "decomp.township": ("乡镇 {code}", "Township {code}"),
    "decomp.label_true_onset": ("真实新发困难（模拟数据）", "true onset (simulated data)"),
    "decomp.label_label": ("可观察标签", "the observable label"),
}


MESSAGES = {**MESSAGES, **EXPORT_MESSAGES, **FIELD_MESSAGES, **TWIN_MESSAGES, **LINKAGE_MESSAGES}


def message(lang: str, key: str, **values: object) -> str:
    """The message ``key`` in ``lang``, formatted with ``values``.

    Raises:
        KeyError: an unknown key (a template bug: tests render every page).
    """
    zh, en = MESSAGES[key]
    text = en if lang == "en" else zh
    return text.format(**values) if values else text


def translator(lang: str) -> Callable[..., str]:
    """A ``t(key, **values)`` function bound to one language (what templates call)."""

    def t(key: str, **values: object) -> str:
        return message(lang, key, **values)

    return t


def pick_lang(query: str | None, cookie: str | None) -> str:
    """The page language: the ``lang`` query parameter, else the cookie, else Chinese."""
    for value in (query, cookie):
        if value in LANGS:
            return value
    return DEFAULT_LANG


@cache
def _programs() -> dict[str, tuple[str, str]]:
    from features.eligibility.engine import default_programs

    return {p.code: (p.zh, p.en) for p in default_programs()}


def program_name(lang: str, code: str) -> str:
    """A program's name from the rules (the code itself when unknown)."""
    names = _programs().get(code)
    if names is None:
        return code
    if lang != "en":
        return names[0]
    return re.sub(r"\s*[（(][^（()）]*[\u3400-\u9fff][^（()）]*[)）]", "", names[1])


def program_codes() -> list[str]:
    """Every program code of the shipped rules, in their order."""
    return list(_programs())
