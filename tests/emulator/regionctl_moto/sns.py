"""SNS: topics and subscriptions as the Amazon SNS API reference describes them.

moto 5.2:
- confirms every subscription at once: email, email-json, http and https subscriptions now stay
  pending until confirmed. Subscribe answers "pending confirmation" for them unless
  ReturnSubscriptionArn is true (then their ARN); ListSubscriptions(ByTopic) shows
  "PendingConfirmation" instead of their ARN; GetSubscriptionAttributes says
  PendingConfirmation "true" and ConfirmationWasAuthenticated "false";
- ignores ConfirmSubscription: it confirms the subscription whose token it is given. The
  emulator's token is the subscription ARN's last part (the uuid): AWS sends the real one to the
  endpoint, which a test cannot read;
- lets Unsubscribe delete a pending subscription: SNS refuses (it deletes unconfirmed
  subscriptions itself after 48 hours), here with InvalidParameter;
- accepts any endpoint: an email subscription needs an address, http / https a URL of that
  scheme (InvalidParameter otherwise);
- returns an existing topic from CreateTopic whatever tags it is given: SNS refuses tags that
  differ from the topic's (InvalidParameter), so a repeated create cannot silently re-tag.
"""

from moto.sns.exceptions import SNSInvalidParameter, SNSNotFoundError
from moto.sns.models import SNSBackend
from moto.sns.responses import SNSResponse
from moto.core.responses import ActionResult

PENDING_PROTOCOLS = {"email", "email-json", "http", "https"}

_original_subscribe = SNSBackend.subscribe
_original_unsubscribe = SNSBackend.unsubscribe
_original_create_topic = SNSBackend.create_topic


def _is_pending(sub) -> bool:
    return getattr(sub, "rc_pending", False)


def _check_endpoint(protocol, endpoint):
    if protocol in ("email", "email-json"):
        user, _, domain = (endpoint or "").partition("@")
        if not user or "." not in domain:
            raise SNSInvalidParameter("Invalid parameter: Email address")
    elif protocol in ("http", "https"):
        if not (endpoint or "").startswith(f"{protocol}://"):
            raise SNSInvalidParameter(
                "Invalid parameter: Endpoint must match the specified protocol"
            )


def subscribe(self, topic_arn, endpoint, protocol):
    _check_endpoint(protocol, endpoint)
    existing = self._find_subscription(topic_arn, endpoint, protocol)
    sub = _original_subscribe(self, topic_arn, endpoint, protocol)
    if existing is None and protocol in PENDING_PROTOCOLS:
        sub.rc_pending = True
        sub.attributes["PendingConfirmation"] = "true"
        sub.attributes["ConfirmationWasAuthenticated"] = "false"
    return sub


def unsubscribe(self, subscription_arn):
    sub = self.subscriptions.get(subscription_arn)
    if sub is not None and _is_pending(sub):
        raise SNSInvalidParameter(
            "Invalid parameter: SubscriptionArn Reason: a subscription pending confirmation cannot be deleted"
        )
    _original_unsubscribe(self, subscription_arn)


def create_topic(self, name, attributes=None, tags=None):
    for topic in self.topics.values():
        if topic.name == name and tags and (topic._tags or {}) != tags:
            raise SNSInvalidParameter(
                "Invalid parameter: Tags Reason: Topic already exists with different tags"
            )
    return _original_create_topic(self, name, attributes, tags)


def _listed(sub):
    return {
        "SubscriptionArn": "PendingConfirmation" if _is_pending(sub) else sub.arn,
        "Owner": sub.owner,
        "Protocol": sub.protocol,
        "Endpoint": sub.endpoint,
        "TopicArn": sub.topic.arn,
    }


def r_subscribe(self):
    topic_arn = self._get_param("TopicArn")
    endpoint = self._get_param("Endpoint")
    protocol = self._get_param("Protocol")
    give_arn = str(self._get_param("ReturnSubscriptionArn") or "").lower() == "true"
    sub = self.backend.subscribe(topic_arn, endpoint, protocol)
    attributes = self._get_attributes()
    if attributes:
        for name, value in attributes.items():
            self.backend.set_subscription_attributes(sub.arn, name, value)
    arn = sub.arn if (give_arn or not _is_pending(sub)) else "pending confirmation"
    return ActionResult({"SubscriptionArn": arn})


def r_list_subscriptions(self):
    next_token = self._get_param("NextToken")
    subs, next_token = self.backend.list_subscriptions(next_token=next_token)
    return ActionResult(
        {"Subscriptions": [_listed(s) for s in subs], "NextToken": next_token}
    )


def r_list_subscriptions_by_topic(self):
    topic_arn = self._get_param("TopicArn")
    next_token = self._get_param("NextToken")
    subs, next_token = self.backend.list_subscriptions_by_topic(
        topic_arn, next_token=next_token
    )
    return ActionResult(
        {"Subscriptions": [_listed(s) for s in subs], "NextToken": next_token}
    )


def r_confirm_subscription(self):
    topic_arn = self._get_param("TopicArn")
    token = self._get_param("Token") or ""
    if topic_arn not in self.backend.topics:
        raise SNSNotFoundError("Topic does not exist")
    for sub in self.backend.subscriptions.values():
        if sub.topic.arn == topic_arn and sub.arn.rsplit(":", 1)[-1] == token:
            sub.rc_pending = False
            sub.attributes["PendingConfirmation"] = "false"
            sub.attributes["ConfirmationWasAuthenticated"] = "true"
            return ActionResult({"SubscriptionArn": sub.arn})
    raise SNSInvalidParameter("Invalid token")


def install() -> None:
    SNSBackend.subscribe = subscribe
    SNSBackend.unsubscribe = unsubscribe
    SNSBackend.create_topic = create_topic
    SNSResponse.subscribe = r_subscribe
    SNSResponse.list_subscriptions = r_list_subscriptions
    SNSResponse.list_subscriptions_by_topic = r_list_subscriptions_by_topic
    SNSResponse.confirm_subscription = r_confirm_subscription
