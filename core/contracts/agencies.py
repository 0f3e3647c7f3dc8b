"""The agency tables: one :class:`~core.contracts.schema.Contract` per agency delivery."""

from __future__ import annotations

from core.contracts.schema import Column, Contract


def _common() -> tuple[Column, ...]:
    return (
        Column(
            "delivery_id",
            "string",
            "Delivery identifier, `<agency>-<YYYY-MM>`, or `<agency>-<YYYY-MM>-<source>` for a "
            "delivery from another system (e.g. `visits-2025-12-service`, from `outreach outcomes "
            "export`).",
        ),
        Column("extract_date", "date", "Date the agency extracted this delivery (month end)."),
        Column("record_id", "string", "The agency's record key; exact duplicates repeat it."),
        Column("event_date", "date", "Date the event happened (local calendar date)."),
        Column("recorded_date", "date", "Date the agency recorded the event; <= extract_date."),
    )


SEX = ("M", "F")


def _person(birth: bool = True, sex: bool = True) -> tuple[Column, ...]:
    cols = [
        Column(
            "id_number",
            "string",
            "Resident ID number as recorded: 18 characters, or 15-digit legacy, or null; "
            "may fail its check character.",
            nullable=True,
            pii=True,
        ),
        Column("name", "string", "Name as recorded (may be a variant spelling).", pii=True),
    ]
    if birth:
        cols.append(Column("birth_date", "date", "Registered birth date.", nullable=True, pii=True))
    if sex:
        cols.append(Column("sex", "string", "Sex as recorded.", nullable=True, allowed=SEX))
    return tuple(cols)


def _village() -> Column:
    return Column("village_code", "string", "12-digit village/community division code.")


ID_DEFECTS = ("mistyped_id", "missing_id", "name_variant", "duplicate", "delay", "missing_month")

CONTRACTS: dict[str, Contract] = {}


def _add(c: Contract) -> None:
    CONTRACTS[c.agency] = c


_add(
    Contract(
        "civil_registry",
        "民政 户籍家庭信息",
        "Civil-affairs household registry: who lives in which registered household.",
        _common()
        + _person()
        + (
            Column("registry_household_no", "string", "The registry's household number."),
            Column(
                "event",
                "string",
                "What changed.",
                allowed=("baseline", "birth", "death", "move_in", "move_out", "household_split"),
            ),
            Column(
                "relation",
                "string",
                "Relation to the household head.",
                allowed=("head", "spouse", "child", "parent", "grandchild", "other"),
            ),
            Column(
                "hukou_type",
                "string",
                "Hukou type.",
                allowed=("local_rural", "local_urban", "non_local"),
            ),
            _village(),
        ),
        defects=ID_DEFECTS,
        baseline=True,
    )
)
_add(
    Contract(
        "civil_assistance",
        "民政 救助申请、认定与发放",
        "Civil-affairs assistance: applications, decisions, enrolments, exits and payments.",
        _common()
        + _person()
        + (
            Column("case_no", "string", "Assistance case number (one per household and program)."),
            Column(
                "program",
                "string",
                "Program.",
                allowed=(
                    "dibao",
                    "tekun",
                    "temporary",
                    "medical_assistance",
                    "disability_living_subsidy",
                    "disability_care_subsidy",
                ),
            ),
            Column(
                "event",
                "string",
                "Event.",
                allowed=(
                    "application",
                    "approval",
                    "rejection",
                    "enrolment_start",
                    "enrolment_end",
                    "payment",
                ),
            ),
            Column(
                "channel",
                "string",
                "How the case started.",
                allowed=("application", "visit", "automatic"),
            ),
            Column("household_size", "int", "Members counted in the case.", minimum=1, maximum=20),
            Column("amount", "float", "Amount paid (CNY) for payments.", nullable=True, minimum=0),
            _village(),
        ),
        defects=ID_DEFECTS,
        baseline=True,
    )
)
_add(
    Contract(
        "medical_claims",
        "医保 结算记录",
        "Medical-insurance settlements (inpatient and outpatient claims).",
        _common()
        + _person()
        + (
            Column(
                "claim_type",
                "string",
                "Kind of claim.",
                allowed=("inpatient", "outpatient_serious", "outpatient_chronic"),
            ),
            Column(
                "diagnosis_group",
                "string",
                "Coarse diagnosis group.",
                allowed=("serious_illness", "chronic", "acute"),
            ),
            Column("scheme", "string", "Insurance scheme.", allowed=("employee", "resident")),
            Column("total_cost", "float", "Total cost (CNY).", minimum=0),
            Column("fund_paid", "float", "Paid by insurance (CNY).", minimum=0),
            Column("out_of_pocket", "float", "Paid by the patient (CNY).", minimum=0),
        ),
        defects=ID_DEFECTS,
    )
)
_add(
    Contract(
        "disability_registry",
        "残联 残疾人证",
        "Disabled Persons' Federation certificate registry.",
        _common()
        + _person()
        + (
            Column("certificate_no", "string", "Disability certificate number."),
            Column("event", "string", "Event.", allowed=("baseline", "issued", "revoked")),
            Column(
                "disability_type",
                "string",
                "Type (GB/T 26341).",
                allowed=(
                    "visual",
                    "hearing",
                    "speech",
                    "physical",
                    "intellectual",
                    "mental",
                    "multiple",
                ),
            ),
            Column("disability_grade", "int", "Grade 1 (most severe) to 4.", minimum=1, maximum=4),
            _village(),
        ),
        defects=ID_DEFECTS,
        baseline=True,
    )
)
_add(
    Contract(
        "education",
        "教育 学籍与出勤",
        "School enrolment, monthly attendance and dropouts (compulsory and senior secondary).",
        _common()
        + _person()
        + (
            Column("student_no", "string", "Student registration number."),
            Column("school_code", "string", "School code."),
            Column("stage", "string", "Stage.", allowed=("primary", "junior", "senior")),
            Column(
                "event",
                "string",
                "Event.",
                allowed=("baseline", "enrolment", "attendance", "dropout", "graduation"),
            ),
            Column(
                "days_absent",
                "int",
                "Days absent in the month (attendance).",
                nullable=True,
                minimum=0,
                maximum=31,
            ),
            Column(
                "school_days",
                "int",
                "School days in the month (attendance).",
                nullable=True,
                minimum=0,
                maximum=31,
            ),
        ),
        defects=ID_DEFECTS,
        baseline=True,
    )
)
_add(
    Contract(
        "hr_unemployment",
        "人社 失业登记与失业保险金",
        "Human resources: unemployment registrations, benefit payments and deregistrations.",
        _common()
        + _person()
        + (
            Column("registration_no", "string", "Unemployment registration number."),
            Column(
                "event",
                "string",
                "Event.",
                allowed=("baseline", "registration", "benefit_payment", "deregistration"),
            ),
            Column("amount", "float", "Benefit paid (CNY).", nullable=True, minimum=0),
            _village(),
        ),
        defects=ID_DEFECTS,
        baseline=True,
    )
)
_add(
    Contract(
        "hr_contributions",
        "人社 社会保险缴费",
        "Monthly social-insurance contributions of formally employed people.",
        _common()
        + _person(birth=False)
        + (
            Column("employer_code", "string", "Employer's unified social credit code (synthetic)."),
            Column("contribution_base", "float", "Monthly contribution base (CNY).", minimum=0),
        ),
        defects=ID_DEFECTS,
    )
)
_add(
    Contract(
        "vehicle_registry",
        "公安交管 机动车登记",
        "Motor-vehicle registrations.",
        _common()
        + _person(birth=False, sex=False)
        + (
            Column("plate_no", "string", "Plate number (synthetic)."),
            Column("event", "string", "Event.", allowed=("baseline", "registered", "deregistered")),
            Column("vehicle_type", "string", "Type.", allowed=("car", "truck", "motorcycle")),
            Column("purchase_value", "float", "Purchase value (CNY).", minimum=0),
        ),
        defects=ID_DEFECTS + ("legacy_id",),
        baseline=True,
    )
)
_add(
    Contract(
        "property_registry",
        "自然资源 不动产登记",
        "Real-estate registrations.",
        _common()
        + _person(birth=False, sex=False)
        + (
            Column("certificate_no", "string", "Property certificate number (synthetic)."),
            Column("event", "string", "Event.", allowed=("baseline", "registered", "transferred")),
            Column("property_type", "string", "Type.", allowed=("residential", "commercial")),
            Column("area_m2", "float", "Floor area (m²).", minimum=0),
            _village(),
        ),
        defects=ID_DEFECTS + ("legacy_id",),
        baseline=True,
    )
)
_add(
    Contract(
        "business_registry",
        "市场监管 市场主体登记",
        "Business registrations: legal representatives of companies and sole proprietors.",
        _common()
        + _person(birth=False, sex=False)
        + (
            Column("credit_code", "string", "Unified social credit code (synthetic)."),
            Column("event", "string", "Event.", allowed=("baseline", "registered", "deregistered")),
            Column("entity_type", "string", "Type.", allowed=("company", "sole_proprietor")),
            Column("registered_capital", "float", "Registered capital (CNY).", minimum=0),
        ),
        defects=ID_DEFECTS,
        baseline=True,
    )
)
_add(
    Contract(
        "utility_arrears",
        "水电燃气 欠费",
        "Monthly utility arrears of household accounts two or more months behind.",
        _common()
        + _person(birth=False, sex=False)
        + (
            Column("account_no", "string", "Utility account number."),
            Column("months_in_arrears", "int", "Months behind.", minimum=1, maximum=120),
            Column("amount_due", "float", "Amount due (CNY).", minimum=0),
            _village(),
        ),
        defects=ID_DEFECTS + ("legacy_id",),
    )
)
_add(
    Contract(
        "rural_monitoring",
        "乡村振兴 防返贫监测与易地搬迁",
        "Rural revitalization lists: households monitored against falling back into poverty, "
        "and households relocated out of poor areas.",
        _common()
        + _person()
        + (
            Column("list_type", "string", "List.", allowed=("monitored", "relocated")),
            Column("event", "string", "Event.", allowed=("baseline", "added", "removed")),
            Column("household_size", "int", "Members.", minimum=1, maximum=20),
            Column("origin_village_code", "string", "Village before relocation.", nullable=True),
            _village(),
        ),
        defects=ID_DEFECTS,
        baseline=True,
    )
)
_add(
    Contract(
        "visits",
        "基层走访记录",
        "Grassroots visits of today's practice (rule-triggered and routine) with outcomes; the "
        "subject is the household head.",
        _common()
        + _person()
        + (
            Column("visit_id", "string", "Visit identifier."),
            Column(
                "trigger",
                "string",
                "Why the visit happened.",
                allowed=(
                    "hospitalization",
                    "disability",
                    "unemployment",
                    "elderly_alone",
                    "monitoring",
                    "outreach_list",
                ),
            ),
            Column(
                "outcome",
                "string",
                "Outcome.",
                allowed=("in_need", "not_in_need", "not_found"),
            ),
            _village(),
        ),
        defects=ID_DEFECTS,
        optional=(
            Column(
                "list_run_id",
                "string",
                "Optional (trigger `outreach_list`): the scoring run whose list held the household "
                "when the visit was recorded.",
                nullable=True,
            ),
            Column(
                "list_rank",
                "int",
                "Optional: the household's rank on that list (1 = visit first).",
                nullable=True,
                minimum=1,
            ),
            Column(
                "list_exploration",
                "bool",
                "Optional: whether the list entry was an exploration draw (drawn at random).",
                nullable=True,
            ),
            Column(
                "list_selection_probability",
                "float",
                "Optional: the probability that the listing design put the household on the "
                "list (1 for ranked and program-gap entries; the inclusion probability of the "
                "draw for exploration entries), for weighting visit outcomes as labels.",
                nullable=True,
                minimum=0,
                maximum=1,
            ),
        ),
    )
)

AGENCIES: tuple[str, ...] = tuple(CONTRACTS)
