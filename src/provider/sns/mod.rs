//! SNS: `sns_topic` (`topic.rs`) and `sns_subscription` (`subscription.rs`). What they share:
//! the topic name inside an ARN, and the error codes of the query protocol.

pub(in crate::provider) mod subscription;
pub(in crate::provider) mod topic;

/// What SNS answers for a topic or subscription that does not exist (`NotFound`), and for the
/// tags of a missing resource (`ResourceNotFound`).
const NOT_FOUND: &[&str] = &["NotFound", "NotFoundException", "ResourceNotFound"];

/// The topic name in a topic ARN (`arn:aws:sns:<region>:<account>:<name>`).
fn topic_name(arn: &str) -> Option<&str> {
    let mut parts = arn.splitn(6, ':');
    let (Some("arn"), Some(_partition), Some("sns"), Some(_region), Some(_account)) = (
        parts.next(),
        parts.next(),
        parts.next(),
        parts.next(),
        parts.next(),
    ) else {
        return None;
    };
    parts.next().filter(|n| !n.is_empty() && !n.contains(':'))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn topic_names_come_from_topic_arns_only() {
        assert_eq!(
            topic_name("arn:aws:sns:eu-west-1:123456789012:alerts"),
            Some("alerts")
        );
        assert_eq!(
            topic_name("arn:aws:sns:eu-west-1:123456789012:a.fifo"),
            Some("a.fifo")
        );
        // A subscription ARN has the topic name and a uuid after it.
        assert_eq!(
            topic_name("arn:aws:sns:eu-west-1:123456789012:alerts:0b1c"),
            None
        );
        assert_eq!(topic_name("arn:aws:sqs:eu-west-1:123456789012:q"), None);
        assert_eq!(topic_name("alerts"), None);
    }
}
