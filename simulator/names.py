"""Realistic Chinese names and registered birth dates for the simulated county (Ninghai-like).

Mechanisms that make names repeat as they do in real registers:

- surname frequencies: national shares of the ~100 most common surnames (approximate figures of
  the Ministry of Public Security name reports), the rest spread over rarer real surnames, with a
  Ninghai/Zhejiang flavour in ``local_surname_weights``;
- single-clan villages (单姓村): a share of a village's people carry the village clan surname;
- given names from sex- and cohort-specific pools (naming fashions by decade of birth) with
  Zipf-like concentration, mixed with a broad pool of common name characters for the long tail;
  single-character given names peak for the 1970s-1980s cohorts;
- registered birth dates: many older people carry a default date (1 January or the 1st of
  their birth month) instead of their true birthday (``registered_birth_dates``, ``HEAPING``:
  45% of people born before 1940 down to 3% of the 1970s cohorts).

Name and birth date together still almost never repeat in a county of 45,000: about 0.01% of
people share (full name, registered date) with someone else. Same-name pairs are rare (two
people of one cohort and sex share surname and given name with probability about 4e-5), so
even if everyone were registered on 1 January only the ~0.75% who share (full name, birth
year) would collide; 1% is out of reach with realistic names.

Calibration targets (shares within a cohort and sex): the most common given name holds about
1-3% (伟 for men born 1960-1989, 秀英 for women born before 1960) and about 0.5-1% for recent
cohorts (the most common newborn names of 2021 held about 0.5%).

Every function is deterministic given the random generator.
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import cache
from typing import NamedTuple

import numpy as np
from numba import njit

from core.idnumber import COMPOUND_SURNAMES

# ------------------------------------------------------------------------------------- surnames
SURNAMES: tuple[tuple[str, float], ...] = tuple(
    (surname, percent / 100.0)
    for surname, percent in (
        ("王", 7.25), ("李", 7.19), ("张", 6.81), ("刘", 5.15), ("陈", 4.52),
        ("杨", 3.08), ("黄", 2.23), ("赵", 2.19), ("吴", 2.05), ("周", 1.89),
        ("徐", 1.45), ("孙", 1.38), ("马", 1.29), ("朱", 1.28), ("胡", 1.16),
        ("郭", 1.15), ("何", 1.06), ("高", 1.00), ("林", 0.96), ("罗", 0.95),
        ("郑", 0.78), ("梁", 0.74), ("谢", 0.72), ("宋", 0.70), ("唐", 0.68),
        ("许", 0.60), ("韩", 0.59), ("冯", 0.58), ("邓", 0.57), ("曹", 0.57),
        ("彭", 0.54), ("曾", 0.53), ("肖", 0.51), ("田", 0.51), ("董", 0.50),
        ("袁", 0.49), ("潘", 0.48), ("于", 0.48), ("蒋", 0.48), ("蔡", 0.46),
        ("余", 0.45), ("杜", 0.44), ("叶", 0.43), ("程", 0.42), ("苏", 0.41),
        ("魏", 0.41), ("吕", 0.40), ("丁", 0.40), ("任", 0.39), ("沈", 0.38),
        ("姚", 0.36), ("卢", 0.36), ("姜", 0.35), ("崔", 0.35), ("钟", 0.34),
        ("谭", 0.33), ("陆", 0.32), ("汪", 0.31), ("范", 0.30), ("金", 0.30),
        ("石", 0.29), ("廖", 0.28), ("贾", 0.28), ("夏", 0.27), ("韦", 0.27),
        ("付", 0.26), ("方", 0.26), ("白", 0.25), ("邹", 0.25), ("孟", 0.25),
        ("熊", 0.24), ("秦", 0.23), ("邱", 0.23), ("江", 0.22), ("尹", 0.22),
        ("薛", 0.22), ("闫", 0.21), ("段", 0.21), ("雷", 0.20), ("侯", 0.20),
        ("龙", 0.20), ("万", 0.20), ("史", 0.19), ("陶", 0.19), ("黎", 0.19),
        ("欧", 0.19), ("贺", 0.18), ("顾", 0.18), ("毛", 0.18), ("郝", 0.17),
        ("龚", 0.17), ("邵", 0.17), ("钱", 0.16), ("严", 0.16), ("覃", 0.15),
        ("武", 0.15), ("戴", 0.15), ("莫", 0.14), ("孔", 0.14), ("向", 0.14),
        ("常", 0.13), ("汤", 0.13),
        # compound surnames (2020 report: 欧阳 1.11 million, 上官 88,000, ... 司马 23,000)
        ("欧阳", 0.079), ("上官", 0.0063), ("皇甫", 0.0045), ("令狐", 0.0039),
        ("诸葛", 0.0034), ("司徒", 0.0033), ("司马", 0.0016),
    )
)  # fmt: skip
"""(surname, approximate national population share), most common first."""

RARE_SURNAMES: tuple[str, ...] = tuple(
    "洪赖傅康易乔文施牛耿关柴庄辛樊祝管殷温焦葛应邬童娄储俞章裘鲍岑包褚舒卓郎奚项滕倪费"
    "尤阮虞翁屈詹宁甘柏宫巫庞伍蓝车查霍齐蒲梅纪牟聂路古季岳翟景安冉邢尚游阎卫房麻柯涂骆"
    "单左鲁苗谷靳仇厉池练窦封芦邝戚宗丛狄米明成席和盛原隋凌桂全华刁"
)
"""Rarer real surnames that share the mass the ``SURNAMES`` table leaves, uniformly."""

LOCAL_SURNAME_SHARES: dict[str, float] = {
    "王": 0.070, "陈": 0.060, "胡": 0.040, "张": 0.035, "叶": 0.030, "李": 0.030, "林": 0.025,
    "周": 0.025, "杨": 0.020, "徐": 0.020, "吴": 0.020, "金": 0.015, "朱": 0.015, "刘": 0.015,
    "黄": 0.015, "郑": 0.012, "潘": 0.012, "应": 0.012, "葛": 0.012, "何": 0.012, "赵": 0.010,
    "蒋": 0.010, "孙": 0.010, "邬": 0.010, "童": 0.010, "俞": 0.008, "章": 0.008, "娄": 0.008,
    "郭": 0.006, "马": 0.006, "储": 0.006, "严": 0.006, "柴": 0.005,
}  # fmt: skip
"""Illustrative county shares for a Ninghai-like county (陈 leads in Zhejiang; 胡 叶 应 葛 邬 童
娄 储 are common locally). Assumptions for the simulator, not published statistics."""


def _frozen(values: np.ndarray) -> np.ndarray:
    values.setflags(write=False)
    return values


@cache
def national_surname_weights() -> tuple[np.ndarray, np.ndarray]:
    """Surnames and national probabilities (summing to 1).

    Returns:
        ``(surnames, p)``: the ``SURNAMES`` table followed by ``RARE_SURNAMES``, which share the
        remaining mass uniformly. Both arrays are read-only.
    """
    names = [s for s, _ in SURNAMES]
    shares = [p for _, p in SURNAMES]
    rest = 1.0 - sum(shares)
    rare = [s for s in dict.fromkeys(RARE_SURNAMES) if s not in names]
    names += rare
    shares += [rest / len(rare)] * len(rare)
    p = np.array(shares)
    return _frozen(np.array(names)), _frozen(p / p.sum())


@cache
def local_surname_weights() -> tuple[np.ndarray, np.ndarray]:
    """Surnames and probabilities for a Ninghai-like county (summing to 1).

    Surnames in ``LOCAL_SURNAME_SHARES`` take their local share; all others share the rest in
    proportion to their national probabilities.

    Returns:
        ``(surnames, p)`` in the order of ``national_surname_weights``; read-only arrays.
    """
    names, national = national_surname_weights()
    local = np.array([LOCAL_SURNAME_SHARES.get(s, np.nan) for s in names])
    fixed = ~np.isnan(local)
    rest = 1.0 - local[fixed].sum()
    p = np.where(fixed, local, national * rest / national[~fixed].sum())
    return names, _frozen(p / p.sum())


def draw_surnames(
    rng: np.random.Generator,
    n: int,
    clan_surname: np.ndarray | None = None,
    clan_share: float = 0.0,
    *,
    local: bool = True,
) -> np.ndarray:
    """Draw surnames, with single-clan villages.

    Args:
        rng: Random generator.
        n: Number of people.
        clan_surname: Per person, the clan surname of their village, or None / "" where there
            is none (towns, mixed villages).
        clan_share: Probability that a person with a clan surname carries it; the others draw
            from the frequency table.
        local: Draw from ``local_surname_weights`` (default) or ``national_surname_weights``.

    Returns:
        Array of n surnames (dtype ``<U2``).

    Raises:
        ValueError: If ``clan_share`` is outside [0, 1] or ``clan_surname`` has the wrong length.
    """
    if not 0.0 <= clan_share <= 1.0:
        raise ValueError("clan_share must be between 0 and 1")
    names, p = local_surname_weights() if local else national_surname_weights()
    out = names[rng.choice(len(names), size=n, p=p)].astype("<U2")
    if clan_surname is not None:
        clan = np.asarray(clan_surname, dtype=object).reshape(-1)
        if len(clan) != n:
            raise ValueError("clan_surname must have one entry per person")
        take = clan.astype(bool) & (rng.random(n) < clan_share)
        out[take] = clan[take].astype("<U2")
    return out


# ---------------------------------------------------------------------------------- given names
class _Fashion(NamedTuple):
    """Fashionable names of one decade and sex, most common first."""

    whole: str  # whole two-character given names, space separated
    single: str  # single-character given names
    first: str  # first characters of composed two-character names
    second: str  # second characters of composed two-character names


_FASHION: dict[tuple[int, bool], _Fashion] = {
    # (decade, male). 1930 covers everyone born before 1940, 2020 everyone born since 2020.
    (1930, True): _Fashion(
        "福根 金根 水根 德明 永福 长根 金福 荣华 有根 财根 志明 国良 文华 仁德 兴华 宝林"
        " 德福 根法 顺德 阿根",
        "根福德林金荣生明忠祥发财海水贵义才良华富",
        "德福金永长水有荣根宝志文明国兴仁庆家瑞树",
        "根福生林明华发财荣才德宝良富海祥贵法清兴",
    ),
    (1930, False): _Fashion(
        "秀英 桂英 玉英 彩英 菊英 月英 凤英 金花 翠花 素英 梅英 兰英 秀珍 桂兰 玉兰 秀兰"
        " 杏花 彩娥 美英 小妹",
        "英兰珍花娥凤梅菊香莲翠妹芬秀琴仙月素云娣",
        "秀桂玉彩菊月凤金翠素梅兰美小杏银雪春莲爱",
        "英兰珍花娥凤香莲娣妹仙琴芬娟梅菊云姣宝珠",
    ),
    (1940, True): _Fashion(
        "建国 国庆 解放 德明 胜利 永福 国华 建华 和平 卫国 福根 金根 志明 国良 荣华 宝林"
        " 顺德 新民 土根 根法",
        "明林华德福荣金生忠平海根良才强祥发义清贵",
        "国建德永金福荣志文明新兴家长宝水根正庆和",
        "明华林生根良荣福德法平祥成发忠民兴清才海",
    ),
    (1940, False): _Fashion(
        "秀英 桂英 玉英 凤英 玉兰 秀兰 桂兰 秀珍 彩英 菊英 月英 素英 美英 金花 翠英 秀娥"
        " 玉珍 春花 桂花 爱英",
        "英兰珍花凤娥梅琴芬香莲翠云秀菊仙芳素月娟",
        "秀桂玉凤彩菊月素美金翠春爱淑丽雪银冬小梅",
        "英兰珍花娥凤芬琴香莲仙梅云娣菊芳娟妹霞珠",
    ),
    (1950, True): _Fashion(
        "建国 建华 国庆 建军 国华 国平 建平 国强 援朝 卫国 建新 国良 志明 跃进 建明 国民"
        " 建忠 和平 胜利 志强",
        "平华明伟军林忠强海勇斌刚荣生成东良杰峰辉",
        "建国志明永金新德文伟立卫海福荣家正庆红兴",
        "华平明国林民军生良荣强忠成福兴海东祥康发",
    ),
    (1950, False): _Fashion(
        "秀英 桂英 玉兰 秀珍 秀兰 凤英 美华 丽华 玉英 桂兰 彩英 秀芳 素珍 月娥 菊英 爱华"
        " 淑珍 桂芳 雪英 春花",
        "英兰华芳珍琴萍红凤霞娟梅云芬玲秀莲丽敏燕",
        "秀桂玉美丽爱凤彩素淑月雪春菊金慧小红亚巧",
        "英华兰珍芳琴萍娥凤霞娟梅云芬玲仙莲娣红花",
    ),
    (1960, True): _Fashion(
        "建华 建军 卫东 红兵 卫国 国平 建平 国强 建新 志强 建明 向阳 红卫 国华 海军 建忠"
        " 国良 志刚 永红 立新",
        "伟勇军强平华斌刚明东杰林峰辉波海涛兵良忠",
        "建国志卫红永海伟立文小晓新金明军振跃东德",
        "华平军明国强东林刚忠兵民良勇荣新峰伟斌辉",
    ),
    (1960, False): _Fashion(
        "红梅 丽华 美华 秀芳 春梅 小红 丽萍 海燕 红霞 秀英 卫红 爱华 玉兰 素芬 彩霞 亚萍"
        " 雪梅 建华 美玲 晓燕",
        "红芳丽霞萍华敏燕英琴娟玲艳静梅慧芬兰珍云",
        "红丽秀美爱晓春海亚素彩雪小卫玉月桂金凤建",
        "芳华萍红霞英琴燕梅娟玲兰珍芬云凤莉娥敏平",
    ),
    (1970, True): _Fashion(
        "建华 志强 海波 建军 文华 国强 小平 志刚 海军 建平 晓东 国平 永强 立新 卫东 海涛"
        " 国华 志华 振华 建明",
        "伟勇军强斌涛杰波刚明峰华辉平磊东林鹏浩俊",
        "志建海晓国永立文小伟振春金卫明俊宏兴德军",
        "华强军明平刚东峰伟林波斌辉勇杰良新涛飞荣",
    ),
    (1970, False): _Fashion(
        "丽华 海燕 红梅 丽萍 美华 晓燕 春梅 小燕 丽君 秀芳 丽娟 雪梅 红霞 彩霞 晓红 亚萍"
        " 美玲 丽芳 海霞 艳红",
        "丽芳敏静红燕霞艳萍娟华玲英琴慧梅莉洁颖云",
        "丽晓海红美秀春雪小亚彩爱素玉月建金玲桂艳",
        "芳华燕萍红霞英娟琴梅玲丽艳莉敏君珍芬云平",
    ),
    (1980, True): _Fashion(
        "海波 晓东 志强 建华 俊杰 海峰 文杰 建军 志刚 晓峰 志伟 建伟 永强 晓明 海军 伟东"
        " 振华 国强 海涛 建锋",
        "伟磊涛杰强鹏超勇斌波军浩明辉健峰刚亮俊宇",
        "志海建晓俊文伟振永国家立金小明宏鹏子一天",
        "伟杰峰强明军华东波涛斌辉龙飞鹏超磊亮刚勇",
    ),
    (1980, False): _Fashion(
        "晓燕 丽娟 海燕 丽萍 小燕 晓丽 丽丽 婷婷 佳佳 晶晶 丹丹 莉莉 倩倩 静静 娜娜 晓红"
        " 雪梅 春燕 美玲 秀芳",
        "静丽敏燕婷娜芳霞艳晶琳丹雪颖倩洁玲佳慧莉",
        "晓丽海雪小秀美红春佳亚婷晶玲文静思梦艳燕",
        "燕丽娟敏婷霞艳红玲芳萍华琴洁静莉颖慧丹倩",
    ),
    (1990, True): _Fashion(
        "俊杰 浩然 文杰 家豪 子豪 志强 宇航 佳豪 俊豪 晓东 天宇 海洋 鹏飞 一鸣 晨阳 文博"
        " 志伟 建伟 浩宇 明杰",
        "杰浩伟磊涛鑫超鹏宇帅强斌凯亮俊波龙健晨辉",
        "俊浩家子文志天佳一宇晓明嘉海鹏振思博立永",
        "杰豪宇轩伟航博涛鑫超磊飞龙阳辉峰晨鹏凯明",
    ),
    (1990, False): _Fashion(
        "婷婷 佳佳 雨婷 晓雪 欣欣 倩倩 丹丹 佳怡 梦婷 思思 文静 晓婷 雨欣 欣怡 静怡 雪莹"
        " 佳琪 梦瑶 诗雨 思雨",
        "婷雪静颖倩琳莹娜丹佳洁悦敏琪璐蕾晶怡欣薇",
        "佳雨思晓欣梦婷雪诗文静丽心嘉美玉小慧春晶",
        "婷雪怡琪颖欣洁敏琳倩莹慧丹蕾璐悦雯晶瑶佳",
    ),
    (2000, True): _Fashion(
        "浩然 子豪 俊杰 宇航 浩宇 子轩 家豪 天宇 博文 宇轩 文博 皓轩 梓豪 俊豪 一鸣 浩轩"
        " 明轩 宇豪 嘉豪 子健",
        "浩宇杰鑫博豪晨磊睿轩凯昊航涛翔洋帅阳哲楠",
        "子浩宇俊梓家文天一嘉佳博志思明皓晨雨泽振",
        "轩豪宇杰航博涛鑫睿阳辰涵然浩翔晨泽凯文龙",
    ),
    (2000, False): _Fashion(
        "欣怡 佳怡 梦瑶 思雨 雨涵 诗涵 子涵 雨欣 佳琪 梓涵 可欣 紫涵 欣妍 思涵 雨萱 雨婷"
        " 佳欣 怡然 梦琪 婧怡",
        "婷雪欣怡琪悦颖蕾璐婧妍雯萱菲琳洁瑶佳晶倩",
        "雨思欣佳子梓诗梦可紫心雅语嘉一静舒晓婉安",
        "涵怡琪萱欣瑶雨婷妍菲悦彤雪蕾璐玥颖雯宁晴",
    ),
    (2010, True): _Fashion(
        "子轩 浩然 梓涵 一诺 宇轩 浩宇 子墨 梓睿 奕辰 皓轩 宇航 梓豪 俊熙 沐宸 宇泽 浩轩"
        " 梓轩 子豪 睿泽 一鸣",
        "睿轩宇浩泽辰航哲昊凯博洋阳森豪涵铭晨杰宸",
        "子梓宇浩一沐奕俊皓睿语明思亦嘉锦煜博雨承",
        "轩辰泽宇涵睿航豪宸熙浩博阳然铭诺晨川霖杰",
    ),
    (2010, False): _Fashion(
        "一诺 梓涵 欣怡 子涵 可馨 诗涵 语桐 若汐 欣妍 梓萱 雨桐 思琪 依诺 佳怡 梦琪 紫涵"
        " 雨涵 可欣 语汐 梦瑶",
        "悦萱琪涵彤妍菲瑶琳怡欣婷诺玥晴宁雪蕾璐冉",
        "梓子雨欣语思一诗可若紫佳依心艺沐馨梦嘉安",
        "涵萱怡琪桐诺妍欣彤汐瑶悦菲晴雪宁琳然玥熙",
    ),
    (2020, True): _Fashion(
        "奕辰 宇轩 浩宇 亦辰 宇辰 子墨 宇航 浩然 梓豪 亦宸 沐宸 沐辰 茗泽 宇泽 奕泽 沐阳"
        " 一诺 煜宸 锦程 宸睿",
        "宸辰泽睿轩煜铭航霖熙宇浩皓昊川琛烁骁祁谦",
        "沐奕亦宇子梓浩一煜锦茗承俊皓明景思博嘉云",
        "辰宸泽轩宇睿熙航阳然霖墨川铭琛豪诺凡言安",
    ),
    (2020, False): _Fashion(
        "一诺 依诺 欣怡 梓涵 语桐 欣妍 可欣 语汐 雨桐 梦瑶 若汐 艺涵 苡沫 书瑶 梓萱 语嫣"
        " 沐晴 芷若 安然 诗涵",
        "诺汐萱悦彤妍瑶玥菲涵沫晴琪宁可伊芮恬萌雯",
        "一依语梓欣若可雨艺子沐书芷诗思安苡梦紫佳",
        "诺涵汐萱桐妍怡瑶欣彤沫然晴琪悦熙宁菲玥冉",
    ),
}

# Broad pools of common name characters (rough frequency order): the long tail of real names.
_GENERAL: dict[bool, str] = {
    True: (
        "伟强军平东明华林海建国志文斌刚勇杰涛峰辉波磊鹏超亮俊宇浩龙飞成荣新德福生良忠兴祥发"
        "庆春金宝永长正和安立兵红卫先家振光洪江山松柏宏胜健毅坚武锋凯博鑫晨阳洋帆航睿泽轩豪"
        "昊哲铭晖彬瑞顺义仁贵才清水根云贤达远晓乐恒锦嘉奇翔旭宁凡亦俊杭琛朝炳灿炎烽宪章"
        "彪虎啸雄威鸿飚森桥梁川源沛瀚涌舟鸣铮钧镇锐钊铭勋功业继承善孝礼智信诚"
    ),
    False: (
        "英华玉秀兰红丽芳珍凤琴云梅霞燕娟萍玲敏静艳慧莉婷雪颖琳洁晶丹倩娜蕾璐佳怡欣琪悦萱涵"
        "妍彤菲瑶雯薇婧晴宁月春美爱素淑翠花香莲娥芬桂菊荷艺诗思梦雨心嘉晓小亚秋冬巧彩金银姣"
        "娇媛婉馨雅韵蓉茜楠露虹蓓蕊芝芸苗莎萌菁莺鹃鸾凤娣姗娴婵妮娅婕姝嫣媚瑾瑜琼瑛璇环珊"
        "珏琦瑞玲琳翎羽霏雯霖露岚澜清洁沁漪涟溪湘滢颜容兰蔓"
    ),
}

DECADES: tuple[int, ...] = (1930, 1940, 1950, 1960, 1970, 1980, 1990, 2000, 2010, 2020)
"""Decade buckets of the naming fashions (1930: born before 1940; 2020: born since 2020)."""

# Share of single-character given names by decade (peak for the 1970s-1980s cohorts).
_P_SINGLE: dict[int, float] = {
    1930: 0.20, 1940: 0.19, 1950: 0.18, 1960: 0.22, 1970: 0.26, 1980: 0.27, 1990: 0.22,
    2000: 0.12, 2010: 0.07, 2020: 0.06,
}  # fmt: skip
# Share of two-character given names taken whole from the decade's fashion list: fashions were
# most uniform for the oldest cohorts; the most common newborn names of 2021 held about 0.5%.
_P_WHOLE: dict[int, float] = {
    1930: 0.12, 1940: 0.12, 1950: 0.12, 1960: 0.10, 1970: 0.08, 1980: 0.07, 1990: 0.06,
    2000: 0.04, 2010: 0.03, 2020: 0.02,
}  # fmt: skip
_HEAD = 0.3  # share of characters taken from the decade's fashion pools (the rest: _GENERAL)
_ZIPF_HEAD = 0.8  # Zipf exponent within the fashion character pools
_ZIPF_WHOLE = 1.0  # Zipf exponent within the whole fashionable names
_ZIPF_GENERAL = 0.3  # Zipf exponent within the broad pools


def _zipf(k: int, s: float) -> np.ndarray:
    w = 1.0 / np.arange(1, k + 1) ** s
    return w / w.sum()


def _mix(head: str, general: str) -> tuple[np.ndarray, np.ndarray]:
    """Characters of head and general pool with mixed Zipf weights, summing to 1."""
    weights: dict[str, float] = {}
    for chars, share, s in ((head, _HEAD, _ZIPF_HEAD), (general, 1.0 - _HEAD, _ZIPF_GENERAL)):
        unique = list(dict.fromkeys(chars))
        for c, p in zip(unique, _zipf(len(unique), s) * share, strict=True):
            weights[c] = weights.get(c, 0.0) + p
    p = np.array(list(weights.values()))
    return _frozen(np.array(list(weights), dtype="<U1")), _frozen(p / p.sum())


class _Tables(NamedTuple):
    p_single: float
    p_whole: float
    single: tuple[np.ndarray, np.ndarray]
    whole: tuple[np.ndarray, np.ndarray]
    first: tuple[np.ndarray, np.ndarray]
    second: tuple[np.ndarray, np.ndarray]


@cache
def _tables(decade: int, male: bool) -> _Tables:
    fashion = _FASHION[(decade, male)]
    whole = list(dict.fromkeys(fashion.whole.split()))
    return _Tables(
        p_single=_P_SINGLE[decade],
        p_whole=_P_WHOLE[decade],
        single=_mix(fashion.single, _GENERAL[male]),
        whole=(_frozen(np.array(whole, dtype="<U2")), _frozen(_zipf(len(whole), _ZIPF_WHOLE))),
        first=_mix(fashion.first, _GENERAL[male]),
        second=_mix(fashion.second, _GENERAL[male]),
    )


def decade_of(birth_year: np.ndarray) -> np.ndarray:
    """The naming-fashion decade bucket (one of ``DECADES``) of each birth year."""
    decade = (np.asarray(birth_year, dtype=np.int64) // 10) * 10
    return np.clip(decade, DECADES[0], DECADES[-1])


def given_name_distribution(decade: int, male: bool) -> dict[str, float]:
    """Exact probabilities of every given name of one decade bucket and sex (sum to 1)."""
    t = _tables(decade, male)
    dist: dict[str, float] = {}
    for c, p in zip(*t.single, strict=True):
        dist[str(c)] = dist.get(str(c), 0.0) + t.p_single * float(p)
    two = 1.0 - t.p_single
    for name, p in zip(*t.whole, strict=True):
        dist[str(name)] = dist.get(str(name), 0.0) + two * t.p_whole * float(p)
    composed = np.outer(t.first[1], t.second[1]) * two * (1.0 - t.p_whole)
    for i, a in enumerate(t.first[0]):
        for j, b in enumerate(t.second[0]):
            key = str(a) + str(b)
            dist[key] = dist.get(key, 0.0) + float(composed[i, j])
    return dist


def draw_given_names(
    rng: np.random.Generator, is_male: np.ndarray, birth_year: np.ndarray
) -> np.ndarray:
    """Draw given names from sex- and cohort-specific pools.

    Each person gets a single-character name (share by decade, see ``_P_SINGLE``), a whole
    fashionable two-character name, or a two-character name composed of a first and a second
    character; characters come from the decade's fashion pool or the broad pool of the sex.

    Args:
        rng: Random generator.
        is_male: Sex of each person.
        birth_year: Birth year of each person.

    Returns:
        Array of given names of 1 or 2 characters (dtype ``<U2``).

    Raises:
        ValueError: If the arrays differ in length.
    """
    male = np.asarray(is_male, dtype=bool).reshape(-1)
    decade = decade_of(np.asarray(birth_year).reshape(-1))
    if len(male) != len(decade):
        raise ValueError("is_male and birth_year must have the same length")
    out = np.empty(len(male), dtype="<U2")
    for dec in DECADES:
        for sex in (True, False):
            idx = np.flatnonzero((decade == dec) & (male == sex))
            if len(idx) == 0:
                continue
            t = _tables(dec, sex)
            u = rng.random(len(idx))
            single = u < t.p_single
            whole = ~single & (u < t.p_single + (1.0 - t.p_single) * t.p_whole)
            composed = ~single & ~whole
            for mask, (pool, p) in ((single, t.single), (whole, t.whole)):
                out[idx[mask]] = pool[rng.choice(len(pool), size=int(mask.sum()), p=p)]
            k = int(composed.sum())
            first = t.first[0][rng.choice(len(t.first[0]), size=k, p=t.first[1])]
            second = t.second[0][rng.choice(len(t.second[0]), size=k, p=t.second[1])]
            out[idx[composed]] = np.strings.add(first, second)
    return out


def draw_names(
    rng: np.random.Generator,
    is_male: np.ndarray,
    birth_year: np.ndarray,
    clan_surname: np.ndarray | None = None,
    clan_share: float = 0.0,
) -> np.ndarray:
    """Draw full names: surname (``draw_surnames``, local table) + given name.

    Args:
        rng: Random generator.
        is_male: Sex of each person.
        birth_year: Birth year of each person.
        clan_surname: Per person, the village clan surname or None / "" (see ``draw_surnames``).
        clan_share: Probability of carrying the clan surname where there is one.

    Returns:
        Array of full names (dtype ``<U4``).
    """
    n = len(np.asarray(is_male).reshape(-1))
    surnames = draw_surnames(rng, n, clan_surname, clan_share)
    return np.strings.add(surnames, draw_given_names(rng, is_male, birth_year)).astype("<U4")


# ------------------------------------------------------------------------------- birth dates
HEAPING: tuple[tuple[int, float], ...] = (
    (1940, 0.45), (1950, 0.35), (1960, 0.25), (1970, 0.10), (1980, 0.03),
)  # fmt: skip
"""(born before this year, share registered on a default date), oldest cohort first; none from
1980 on. Assumptions for the simulator, not published statistics."""

HEAPING_JAN1 = 0.6
"""Share of default dates that are 1 January (the others: the 1st of the birth month)."""


def heaped_share(birth_year: np.ndarray) -> np.ndarray:
    """Share of each birth cohort registered on a default date (``HEAPING``)."""
    year = np.asarray(birth_year)
    bounds = np.array([y for y, _ in HEAPING])
    shares = np.array([p for _, p in HEAPING] + [0.0])
    return shares[np.searchsorted(bounds, year, side="right")]


def registered_birth_dates(
    rng: np.random.Generator, true_dates: np.ndarray, birth_year: np.ndarray
) -> np.ndarray:
    """Birth dates as registered: many older people carry a default date.

    When household registration (户口) began in the 1950s, many rural people did not know their
    birthday in the solar calendar: only the year, a lunar-calendar date, or nothing. Clerks
    wrote a default date, and the registered date later passed to the resident identity card
    (from 1984) and the 18-digit ID number. The default was most often 1 January of the
    birth year, otherwise the 1st of the birth month. The practice faded as births came to be
    registered at the time (and hospital births became the rule).

    Shares registered on a default date (``HEAPING``): 45% of people born before 1940, 35% of
    1940-1949, 25% of 1950-1959, 10% of 1960-1969, 3% of 1970-1979, none later; of these,
    60% (``HEAPING_JAN1``) on 1 January and 40% on the 1st of their birth month. These shares
    are assumptions chosen to give visible heaping in older cohorts, not published statistics.
    Registered dates are never later than true ones and stay in the birth year.

    Args:
        rng: Random generator.
        true_dates: True birth dates (converted to ``datetime64[D]``).
        birth_year: Birth year of each person.

    Returns:
        Registered birth dates (``datetime64[D]``).

    Raises:
        ValueError: If the arrays differ in length.
    """
    dates = np.asarray(true_dates).astype("datetime64[D]").reshape(-1).copy()
    year = np.asarray(birth_year).reshape(-1)
    if len(year) != len(dates):
        raise ValueError("true_dates and birth_year must have the same length")
    share = heaped_share(year)
    r = rng.random(len(dates))
    to_jan1 = r < share * HEAPING_JAN1
    to_first = ~to_jan1 & (r < share)
    dates[to_jan1] = dates[to_jan1].astype("datetime64[Y]").astype("datetime64[D]")
    dates[to_first] = dates[to_first].astype("datetime64[M]").astype("datetime64[D]")
    return dates


# --------------------------------------------------------------------------- recording variants
_HOMOPHONE_GROUPS: tuple[str, ...] = (
    # characters a clerk typing pinyin (without tones) may pick for one another
    "华化桦", "明铭鸣", "丽莉俐利", "伟玮炜卫维", "芳方舫", "静婧晶菁靖", "军君钧均", "俊峻骏",
    "英瑛莹颖", "红宏虹洪鸿", "平萍苹", "建健剑坚", "国帼", "涛韬桃", "林琳霖麟", "霞侠",
    "杰洁婕捷", "燕艳妍彦雁", "敏民珉", "斌彬滨", "峰锋丰枫", "凤风", "勇永咏", "娟涓鹃",
    "玲灵铃凌", "琴芹勤", "梅玫媚", "兰岚澜", "珍贞真桢", "生升胜盛", "文雯闻", "雪学",
    "婷亭庭霆", "宇羽雨玉语钰瑜煜昱", "浩昊皓灏", "鑫欣馨新昕", "晨辰宸琛", "轩萱宣璇",
    "涵晗含寒", "怡宜仪", "奕亦艺逸", "依伊", "琪淇琦祺奇", "悦越月玥", "佳家嘉", "秀绣",
    "桂贵", "金锦瑾", "荣蓉容榕", "德得", "福富", "东冬栋", "辉晖徽", "慧惠蕙", "亮良靓",
    "刚钢纲", "波博柏", "鹏朋", "超潮", "强蔷", "磊蕾", "凯楷恺", "祥翔湘", "志智芝",
    "清青晴卿", "倩茜芊", "娜纳", "丹旦", "云芸韵筠", "璐露鹭", "淑舒姝", "素苏", "彩才财",
    "翠萃", "菊橘", "娥峨", "莲连涟", "忠中钟", "成诚承晟", "兴星", "兵冰", "洋阳扬",
    "睿瑞锐", "泽则", "墨默沫", "子梓紫", "航杭", "桐彤童", "诗师", "梦萌", "瑶遥尧",
    "汐希曦熙溪", "珊姗", "可珂", "宁凝", "天恬甜", "源元媛园", "龙隆珑", "飞菲霏", "晓筱",
    "欢焕", "宝保葆", "泉全权", "春纯", "秋邱", "冬东", "美梅", "爱艾", "芬纷", "香湘",
    "花华", "仙先", "妹梅", "珠朱", "姣娇", "发法", "才材",
)  # fmt: skip


def _homophone_table(groups: tuple[str, ...]) -> dict[str, tuple[str, ...]]:
    table: dict[str, tuple[str, ...]] = {}
    for group in groups:
        for c in group:
            others = tuple(x for x in group if x != c)
            table[c] = tuple(dict.fromkeys(table.get(c, ()) + others))
    return table


HOMOPHONES: dict[str, tuple[str, ...]] = _homophone_table(_HOMOPHONE_GROUPS)
"""Given-name character -> characters with the same toneless pinyin a clerk may type instead."""

TRADITIONAL: dict[str, str] = dict(
    zip(
        "华国丽军红伟刚东兰凤龙云杰涛静艳强辉鹏庆荣贵宝发兴乐丰宁凯颖晓轩泽诺梦瑶诗语铭锋钢"
        "莲卫进义礼爱亚业飞贤坚伦玮炜纬韵娇银锦钰远达汉胜顺书莹灵岚贞洁鸿鸣晖",
        "華國麗軍紅偉剛東蘭鳳龍雲傑濤靜艷強輝鵬慶榮貴寶發興樂豐寧凱穎曉軒澤諾夢瑤詩語銘鋒鋼"
        "蓮衛進義禮愛亞業飛賢堅倫瑋煒緯韻嬌銀錦鈺遠達漢勝順書瑩靈嵐貞潔鴻鳴暉",
        strict=True,
    )
)
TRADITIONAL.update(
    dict(
        zip(
            "陈刘张赵吴叶杨黄郑罗谢许韩冯邓蒋苏吕卢钟陆贾韦邹孙马谭闫贺顾龚钱严欧汤",
            "陳劉張趙吳葉楊黃鄭羅謝許韓馮鄧蔣蘇呂盧鍾陸賈韋鄒孫馬譚閆賀顧龔錢嚴歐湯",
            strict=True,
        )
    )
)
"""Simplified -> traditional form of characters common in names (one-to-one mappings only)."""

_KINDS = ("homophone", "traditional", "space", "width")
_KIND_P = np.array([0.5, 0.15, 0.2, 0.15])
_KIND_CDF = _frozen(np.cumsum(_KIND_P) / np.sum(_KIND_P))


def _surname_length(name: str) -> int:
    return 2 if name[:2] in COMPOUND_SURNAMES else 1


def _swap(
    name: str,
    spots: list[int],
    table: Mapping[str, str | tuple[str, ...]],
    u_pos: float,
    u_alt: float,
) -> str:
    j = spots[int(u_pos * len(spots))]
    alt = table[name[j]]
    if isinstance(alt, tuple):
        alt = alt[int(u_alt * len(alt))]
    return name[:j] + alt + name[j + 1 :]


def _insert(name: str, sep: str, u_pos: float) -> str:
    j = 1 + int(u_pos * (len(name) - 1)) if len(name) > 1 else 1
    return name[:j] + sep + name[j:]


def _width_glitch(name: str, u_pos: float) -> str:
    """Full-width <-> half-width glitch, or a full-width space between two characters."""
    spots = [j for j, c in enumerate(name) if "!" <= c <= "~" or "\uff01" <= c <= "\uff5e"]
    if spots:
        j = spots[int(u_pos * len(spots))]
        c = name[j]
        swapped = chr(ord(c) + 0xFEE0) if c <= "~" else chr(ord(c) - 0xFEE0)
        return name[:j] + swapped + name[j + 1 :]
    if "·" in name:
        return name.replace("·", "•", 1)
    return _insert(name, "\u3000", u_pos)


def _variant(name: str, kind: str, u_pos: float, u_alt: float) -> str:
    given = _surname_length(name)
    homophone = [j for j in range(given, len(name)) if name[j] in HOMOPHONES]
    traditional = [j for j in range(len(name)) if name[j] in TRADITIONAL]
    if kind == "homophone" and homophone:
        return _swap(name, homophone, HOMOPHONES, u_pos, u_alt)
    if kind in ("homophone", "traditional") and traditional:
        return _swap(name, traditional, TRADITIONAL, u_pos, u_alt)
    if kind == "width":
        return _width_glitch(name, u_pos)
    return _insert(name, " ", u_pos)


# classes of code points for the compiled name_variants (bit flags)
_C_HOMOPHONE, _C_TRADITIONAL, _C_WIDTH, _C_DOT, _C_COMPOUND = 1, 2, 4, 8, 16


class _VariantTables(NamedTuple):
    """Lookups over the Basic Multilingual Plane for the compiled ``name_variants``."""

    cls: np.ndarray  # code point -> _C_* flags (0xFFFF, which stands for any higher code: 0)
    homo_row: np.ndarray  # code point -> row of homo_alts (-1: no homophone)
    homo_n: np.ndarray  # row -> number of homophones
    homo_alts: np.ndarray  # (rows, most homophones) code points, in HOMOPHONES order
    trad: np.ndarray  # code point -> traditional form
    compound: np.ndarray  # keys (first << 21 | second) of two-character compound surnames


@cache
def _variant_tables() -> _VariantTables:
    # built once from HOMOPHONES / TRADITIONAL (module constants; do not mutate them)
    cls = np.zeros(0x10000, np.uint8)
    homo_row = np.full(0x10000, -1, np.int64)
    homo_n = np.zeros(len(HOMOPHONES), np.int64)
    homo_alts = np.zeros((len(HOMOPHONES), max(map(len, HOMOPHONES.values()))), np.uint32)
    for i, (c, alts) in enumerate(HOMOPHONES.items()):
        cls[ord(c)] |= _C_HOMOPHONE
        homo_row[ord(c)] = i
        homo_n[i] = len(alts)
        homo_alts[i, : len(alts)] = [ord(a) for a in alts]
    trad = np.zeros(0x10000, np.uint32)
    for s, t in TRADITIONAL.items():
        cls[ord(s)] |= _C_TRADITIONAL
        trad[ord(s)] = ord(t)
    cls[0x21:0x7F] |= _C_WIDTH  # ASCII ! ... ~
    cls[0xFF01:0xFF5F] |= _C_WIDTH  # their full-width forms
    cls[0xB7] |= _C_DOT  # ·
    pairs = [s for s in COMPOUND_SURNAMES if len(s) == 2]
    for s in pairs:
        cls[ord(s[0])] |= _C_COMPOUND
    compound = np.sort(np.array([ord(s[0]) << 21 | ord(s[1]) for s in pairs], np.int64))
    cls[0xFFFF] = 0
    for table in (cls, homo_row, homo_n, homo_alts, trad, compound):
        _frozen(table)
    return _VariantTables(cls, homo_row, homo_n, homo_alts, trad, compound)


@njit(cache=True)
def _variants_kernel(
    codes: np.ndarray,
    kinds: np.ndarray,
    u: np.ndarray,
    cls: np.ndarray,
    homo_row: np.ndarray,
    homo_n: np.ndarray,
    homo_alts: np.ndarray,
    trad: np.ndarray,
    compound: np.ndarray,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``_variant`` for every name, on code points (compiled; the tables of ``_variant_tables``).

    Args:
        codes: (names, width) UTF-32 code points of the names, 0-padded (a ``<U`` array).
        kinds: Index into ``_KINDS`` of each name.
        u: (names, 2) uniform draws: ``u_pos`` and ``u_alt`` of ``_variant``.

    Returns:
        ``(out, size, nul)``: (names, width + 1) code points of the variants, 0-padded, which
        are exactly ``_variant(name, _KINDS[kind], u_pos, u_alt)`` (the same spot and
        alternative, ``int(u * count)`` as in ``_swap`` and ``_insert``) for names without NUL
        characters; the number of characters up to the last non-NUL one; whether a NUL
        character comes before it.
    """
    n, width = codes.shape
    out = np.zeros((n, width + 1), np.uint32)
    sizes = np.zeros(n, np.int64)
    nul = np.zeros(n, np.bool_)
    for i in range(n):
        size = width
        while size > 0 and codes[i, size - 1] == 0:
            size -= 1
        sizes[i] = size
        for j in range(size):
            out[i, j] = codes[i, j]
            if codes[i, j] == 0:
                nul[i] = True
        given = 1
        if size >= 2 and cls[min(codes[i, 0], 0xFFFF)] & _C_COMPOUND:
            key = (np.int64(codes[i, 0]) << 21) | np.int64(codes[i, 1])
            for c in compound:
                if c == key:
                    given = 2
        n_homo = n_trad = n_glyph = 0
        dot = -1
        for j in range(size):
            flags = cls[min(codes[i, j], 0xFFFF)]
            if j >= given and flags & _C_HOMOPHONE:
                n_homo += 1
            if flags & _C_TRADITIONAL:
                n_trad += 1
            if flags & _C_WIDTH:
                n_glyph += 1
            if flags & _C_DOT and dot < 0:
                dot = j
        kind = kinds[i]
        if kind == 0 and n_homo > 0:
            flag, start, count = _C_HOMOPHONE, given, n_homo
        elif kind <= 1 and n_trad > 0:
            flag, start, count = _C_TRADITIONAL, 0, n_trad
        elif kind == 3 and n_glyph > 0:
            flag, start, count = _C_WIDTH, 0, n_glyph
        elif kind == 3 and dot >= 0:
            out[i, dot] = 0x2022  # "·" -> "•"
            continue
        else:  # a space (full-width for the width kind) after character 1 + int(u * (size - 1))
            pos = 1 + int(u[i, 0] * (size - 1))
            for j in range(size, pos, -1):
                out[i, j] = out[i, j - 1]
            out[i, pos] = 0x3000 if kind == 3 else 0x20
            continue
        target = int(u[i, 0] * count)
        spot = start
        for j in range(start, size):
            if cls[min(codes[i, j], 0xFFFF)] & flag:
                if target == 0:
                    spot = j
                    break
                target -= 1
        c = codes[i, spot]
        if flag == _C_HOMOPHONE:
            r = homo_row[c]
            out[i, spot] = homo_alts[r, int(u[i, 1] * homo_n[r])]
        elif flag == _C_TRADITIONAL:
            out[i, spot] = trad[c]
        elif c <= 0x7E:
            out[i, spot] = c + 0xFEE0
        else:
            out[i, spot] = c - 0xFEE0
    return out, sizes, nul


def name_variants(names: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """A plausible recording variant of each name, as an agency clerk might type it.

    Kinds (50/15/20/15%): a homophone for one given-name character (华->化, 明->铭, ...); one
    character in traditional form (华->華); a stray space between characters; a full-width /
    half-width glitch (a full-width space, or one ASCII character in the other width). Where
    a homophone or traditional form does not exist the next applicable kind is used (ending
    with a space), so the variant always differs from the name.

    Runs compiled over the code points of the names (``_variants_kernel``): the result equals
    ``_variant`` applied name by name with the same random draws, which are those of earlier
    versions (``rng.choice`` of the kinds, then ``rng.random((n, 2))``). Names containing NUL
    characters, which a numpy string array cannot hold faithfully, take the scalar path.

    Args:
        names: Non-empty names.
        rng: Random generator.

    Returns:
        Array of variants, one per name (str dtype).

    Raises:
        ValueError: If a name is empty or not text.
    """
    if isinstance(names, np.ndarray) and names.dtype.kind == "U":
        values = names.reshape(-1)
    else:
        values = np.asarray(names, dtype=object).reshape(-1)
    n = len(values)
    # the draws of rng.choice(len(_KINDS), size=n, p=_KIND_P), without its argument checks
    kinds = np.searchsorted(_KIND_CDF, rng.random(n), side="right")
    u = rng.random((n, 2))
    if n == 0:
        return np.empty(0, dtype="<U1")
    text = values
    if values.dtype.kind != "U":
        if not all(isinstance(name, str) and name for name in values):
            raise ValueError("names must be non-empty text")
        text = values.astype(str)
    width = text.dtype.itemsize // 4
    codes = np.ascontiguousarray(text.astype(f"=U{width}", copy=False))
    codes = codes.view(np.uint32).reshape(n, width)
    t = _variant_tables()
    out, size, odd = _variants_kernel(
        codes, kinds, u, t.cls, t.homo_row, t.homo_n, t.homo_alts, t.trad, t.compound
    )
    # NUL characters: trailing ones are lost in a numpy string array, inner ones look like ends
    if values.dtype.kind == "U":
        if not size.all():
            raise ValueError("names must be non-empty text")
    else:
        odd |= np.fromiter(map(len, values), np.int64, n) != size
    out = out.view(f"<U{width + 1}").reshape(n)
    if odd.any():
        out = out.astype(object)
        for i in np.flatnonzero(odd):
            out[i] = _variant(str(values[i]), _KINDS[kinds[i]], float(u[i, 0]), float(u[i, 1]))
        out = np.array(out.tolist(), dtype=str)
    return out
