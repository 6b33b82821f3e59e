//! Which column is which, and which platform's report this is, from the header row.

use serde::{Deserialize, Serialize};

/// A column the ingester understands. Also the keys of a [`super::ColumnMapping`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Field {
    /// The day of the row.
    Date,
    /// First day of a row's period (Amazon's "Start Date"); used when there is no `date`.
    StartDate,
    /// Last day of a row's period (Amazon's "End Date", the canonical `end_date`): the row
    /// covers `date` (or `start_date`) to this day.
    EndDate,
    /// Hour of the day, 0-23.
    Hour,
    /// The platform's campaign (plan) id; becomes the [`crate::PlanId`] verbatim.
    PlanId,
    /// The campaign (plan) name.
    Plan,
    /// A keyword id to use verbatim (the canonical CSV); otherwise ids are derived.
    KeywordId,
    /// The keyword text, possibly with match-type notation (`[kw]`, `"kw"`, `+kw`).
    Keyword,
    /// The keyword's match type (`Exact`, `phrase match`, `精准匹配`, ...).
    MatchType,
    /// The user's search query (search-terms reports).
    SearchTerm,
    /// Impressions.
    Impressions,
    /// Clicks (never "Interactions").
    Clicks,
    /// Cost / spend.
    Cost,
    /// Conversions / orders; may be fractional (attribution models).
    Conversions,
    /// View-through conversions reported in a column of their own.
    ViewThroughConversions,
    /// Revenue / sales / conversion value.
    Revenue,
    /// Conversion rate; used only to derive conversions when there is no conversions column.
    ConversionRate,
    /// The keyword's bid (max CPC).
    Bid,
    /// The plan's daily budget.
    Budget,
    /// Currency code.
    Currency,
    /// An ad's (creative's) id (Google's "Ad ID", Amazon's advertised ASIN, 创意ID): the
    /// [`crate::model::CreativeId`] verbatim. A file with a creative column is an ad-level
    /// report.
    CreativeId,
    /// An ad's (creative's) name or first headline ("Headline 1", "Ad name", 创意标题).
    Creative,
    /// The channel the plan buys traffic in (a `channel` / 渠道 column).
    Channel,
}

impl Field {
    /// The canonical CSV name of the field.
    pub fn name(self) -> &'static str {
        match self {
            Field::Date => "date",
            Field::StartDate => "start_date",
            Field::EndDate => "end_date",
            Field::Hour => "hour",
            Field::PlanId => "plan_id",
            Field::Plan => "plan_name",
            Field::KeywordId => "keyword_id",
            Field::Keyword => "keyword",
            Field::MatchType => "match_type",
            Field::SearchTerm => "search_term",
            Field::Impressions => "impressions",
            Field::Clicks => "clicks",
            Field::Cost => "cost",
            Field::Conversions => "conversions",
            Field::ViewThroughConversions => "view_through_conversions",
            Field::Revenue => "revenue",
            Field::ConversionRate => "conversion_rate",
            Field::Bid => "bid",
            Field::Budget => "budget",
            Field::Currency => "currency",
            Field::CreativeId => "creative_id",
            Field::Creative => "creative",
            Field::Channel => "channel",
        }
    }
}

/// The report layouts the ingester recognises.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Layout {
    /// Google Ads campaign report (one row per campaign and segment).
    GoogleAdsCampaign,
    /// Google Ads search keyword report.
    GoogleAdsKeyword,
    /// Google Ads search terms report.
    GoogleAdsSearchTerms,
    /// Amazon Sponsored Products campaign report.
    AmazonSpCampaign,
    /// Amazon Sponsored Products search term report.
    AmazonSpSearchTerms,
    /// Taobao/Tmall keyword promotion ("through train", 直通车) plan report.
    TaobaoPlan,
    /// Taobao/Tmall keyword promotion keyword report.
    TaobaoKeyword,
    /// Google Ads "Ads" report (one row per ad: ad id and/or headline).
    GoogleAdsAds,
    /// Amazon Sponsored Products advertised product report (the ad is the advertised ASIN
    /// or SKU).
    AmazonSpAdvertisedProduct,
    /// Taobao/Tmall creative report (创意报表: 创意ID / 创意标题).
    TaobaoCreative,
    /// This crate's canonical CSV (see [`super::write_canonical`]).
    Canonical,
    /// A layout described by a user-supplied [`super::ColumnMapping`].
    Mapped,
}

/// Lower-cases, trims, collapses spaces, drops a trailing `(...)` unit and a leading
/// attribution window (`7 Day `, `14 Day `), returning the name and the window if any.
pub fn normalise_header(raw: &str) -> (String, Option<String>) {
    let mut s: String = raw
        .trim_start_matches('\u{feff}')
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .to_lowercase();
    // Drop trailing unit groups: "7 day total orders (#)", "spend (₹)", "花费(元)".
    loop {
        let t = s.trim_end();
        let (open, close) = if t.ends_with(')') {
            ('(', ')')
        } else if t.ends_with('）') {
            ('（', '）')
        } else {
            break;
        };
        let Some(i) = t.rfind(open) else { break };
        if i == 0 {
            break;
        }
        let _ = close;
        s = t[..i].trim_end().to_string();
    }
    let mut window = None;
    let mut words = s.splitn(3, ' ');
    if let (Some(n), Some("day"), Some(rest)) = (words.next(), words.next(), words.next())
        && !n.is_empty()
        && n.bytes().all(|b| b.is_ascii_digit())
    {
        window = Some(format!("{n} day"));
        s = rest.to_string();
    }
    (s, window)
}

/// The unit a header states in a trailing group (`Spend (₹)` → `₹`, `Cost (USD)` → `USD`).
pub fn header_unit(raw: &str) -> Option<&str> {
    let t = raw.trim();
    let (open, close) = if t.ends_with(')') {
        ('(', ')')
    } else if t.ends_with('）') {
        ('（', '）')
    } else {
        return None;
    };
    let i = t.rfind(open)?;
    let inner = t[i + open.len_utf8()..t.len() - close.len_utf8()].trim();
    (!inner.is_empty()).then_some(inner)
}

/// The field a normalised header names, if any. "Interactions" deliberately maps to nothing.
pub fn field_of(h: &str) -> Option<Field> {
    use Field::*;
    Some(match h {
        "date" | "day" | "日期" | "时间" | "date_" => Date,
        "start date" | "start_date" => StartDate,
        "end date" | "end_date" => EndDate,
        "hour" | "hour of day" | "小时" | "时段" => Hour,
        "campaign id" | "plan_id" | "计划id" | "推广计划id" => PlanId,
        "campaign" | "campaign name" | "plan_name" | "plan" | "计划名称" | "推广计划"
        | "推广计划名称" | "计划" => Plan,
        "keyword_id" => KeywordId,
        "keyword" | "search keyword" | "keyword text" | "targeting" | "关键词" | "关键字"
        | "关键词名称" => Keyword,
        "match type"
        | "match_type"
        | "keyword match type"
        | "search keyword match type"
        | "匹配方式"
        | "匹配类型" => MatchType,
        "search term"
        | "customer search term"
        | "search query"
        | "search_term"
        | "搜索词"
        | "买家搜索词" => SearchTerm,
        "impressions" | "impr." | "impr" | "展现量" | "展现" | "展现数" => Impressions,
        "clicks" | "点击量" | "点击数" => Clicks,
        "cost" | "spend" | "花费" | "总花费" | "消耗" => Cost,
        "conversions" | "conv." | "orders" | "total orders" | "purchases" | "总成交笔数"
        | "成交笔数" | "总订单数" => Conversions,
        "view-through conv." | "view-through conversions" | "view_through_conversions" => {
            ViewThroughConversions
        }
        "conv. value" | "conversion value" | "total conv. value" | "all conv. value"
        | "revenue" | "sales" | "total sales" | "总成交金额" | "成交金额" => Revenue,
        "conv. rate" | "conversion rate" | "conversion_rate" | "点击转化率" | "转化率" => {
            ConversionRate
        }
        "max. cpc" | "max cpc" | "default max. cpc" | "keyword bid" | "bid" | "出价"
        | "关键词出价" => Bid,
        "budget"
        | "daily budget"
        | "campaign budget"
        | "campaign budget amount"
        | "日限额"
        | "日预算" => Budget,
        "currency" | "currency code" | "币种" => Currency,
        "ad id" | "ad_id" | "creative id" | "creative_id" | "创意id" | "advertised asin" => {
            CreativeId
        }
        "headline 1" | "headline" | "ad name" | "creative" | "creative name" | "creative_name"
        | "创意标题" | "创意名称" | "创意" | "advertised sku" => Creative,
        "channel" | "channel name" | "渠道" | "推广渠道" => Channel,
        _ => return None,
    })
}

/// Whether any header cell is written in Chinese (Taobao's exports).
fn has_cjk(headers: &[String]) -> bool {
    headers
        .iter()
        .any(|h| h.chars().any(|c| ('\u{4e00}'..='\u{9fff}').contains(&c)))
}

/// Guesses the layout from the normalised headers and the fields found.
pub fn detect_layout(headers: &[String], fields: &[Option<Field>]) -> Layout {
    let has = |f: Field| fields.contains(&Some(f));
    let canonical = ["date", "plan_id", "impressions", "clicks", "cost"]
        .iter()
        .all(|c| headers.iter().any(|h| h == c));
    if canonical {
        return Layout::Canonical;
    }
    // An ad-level report: a creative column and no keyword or search-term breakdown.
    let ads = (has(Field::CreativeId) || has(Field::Creative))
        && !has(Field::Keyword)
        && !has(Field::SearchTerm);
    if ads {
        return if has_cjk(headers) {
            Layout::TaobaoCreative
        } else if headers
            .iter()
            .any(|h| matches!(h.as_str(), "advertised asin" | "advertised sku" | "spend"))
        {
            Layout::AmazonSpAdvertisedProduct
        } else {
            Layout::GoogleAdsAds
        };
    }
    if has_cjk(headers) {
        return if has(Field::Keyword) {
            Layout::TaobaoKeyword
        } else {
            Layout::TaobaoPlan
        };
    }
    let amazon = headers.iter().any(|h| {
        matches!(
            h.as_str(),
            "campaign name" | "spend" | "customer search term" | "targeting" | "total orders"
        )
    });
    match (amazon, has(Field::SearchTerm), has(Field::Keyword)) {
        (true, true, _) => Layout::AmazonSpSearchTerms,
        (true, false, _) => Layout::AmazonSpCampaign,
        (false, true, _) => Layout::GoogleAdsSearchTerms,
        (false, false, true) => Layout::GoogleAdsKeyword,
        (false, false, false) => Layout::GoogleAdsCampaign,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn headers_normalise() {
        assert_eq!(
            normalise_header("7 Day Total Sales "),
            ("total sales".into(), Some("7 day".into()))
        );
        assert_eq!(
            normalise_header("7 Day Total Orders (#)"),
            ("total orders".into(), Some("7 day".into()))
        );
        assert_eq!(normalise_header("\u{feff}Spend (₹)").0, "spend");
        assert_eq!(normalise_header("花费（元）").0, "花费");
        assert_eq!(field_of("interactions"), None);
        assert_eq!(field_of("impr."), Some(Field::Impressions));
    }
}
