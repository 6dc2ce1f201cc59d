//! Access policies as Replit's generated `server/objectAcl.ts` keeps them: JSON in the custom
//! metadata key `custom:aclPolicy`, `{owner, visibility, aclRules?}`. Reading, writing and the
//! access decision follow that file exactly, so objects those apps stored keep their policies:
//! no policy means no access; a public object can be read by anyone; the owner can do
//! anything; otherwise a rule grants access when its group has the user as a member, and a
//! `write` rule implies `read`. Pure: the wasm side reads the JSON and asks the app's
//! `isMember` for the groups this module says need asking.

use crate::prelude::*;
use crate::protocol::document::{required, Document, FieldError, Fields, FromDocument};
use crate::protocol::json::JsonObject;

/// The custom metadata key the generated apps store policies under.
pub const POLICY_KEY: &str = "custom:aclPolicy";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Permission {
    Read,
    Write,
}

impl Permission {
    pub fn parse(text: &str) -> Option<Permission> {
        match text {
            "read" => Some(Permission::Read),
            "write" => Some(Permission::Write),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Permission::Read => "read",
            Permission::Write => "write",
        }
    }

    /// Whether a rule granting `self` allows `requested` (write implies read).
    pub fn allows(self, requested: Permission) -> bool {
        self == Permission::Write || requested == Permission::Read
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Visibility {
    Public,
    Private,
}

/// A group of users, named by the app: `type` says which kind of group, `id` which one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Group {
    pub kind: String,
    pub id: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rule {
    pub group: Group,
    pub permission: Permission,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Policy {
    pub owner: String,
    pub visibility: Visibility,
    /// `None` when the stored JSON had no `aclRules` (kept so a read-then-write round trip
    /// stores what it read).
    pub rules: Option<Vec<Rule>>,
}

impl FromDocument for Group {
    fn read<D: Document>(fields: &Fields<'_, D>) -> Result<Self, FieldError> {
        Ok(Group { kind: required("type", fields.string("type")?)?, id: required("id", fields.string("id")?)? })
    }
}

impl FromDocument for Rule {
    fn read<D: Document>(fields: &Fields<'_, D>) -> Result<Self, FieldError> {
        let group = required("group", fields.object("group")?)?;
        let permission = required("permission", fields.string("permission")?)?;
        let permission =
            Permission::parse(&permission).ok_or_else(|| String::from("`permission` must be \"read\" or \"write\""))?;
        Ok(Rule { group, permission })
    }
}

impl FromDocument for Policy {
    fn read<D: Document>(fields: &Fields<'_, D>) -> Result<Self, FieldError> {
        let owner = required("owner", fields.string("owner")?)?;
        let visibility = match required("visibility", fields.string("visibility")?)?.as_str() {
            "public" => Visibility::Public,
            "private" => Visibility::Private,
            _ => return Err("`visibility` must be \"public\" or \"private\"".into()),
        };
        let rules = match fields.raw("aclRules") {
            None => None,
            Some(_) => Some(fields.list("aclRules")?),
        };
        Ok(Policy { owner, visibility, rules })
    }
}

impl Policy {
    /// The JSON the generated apps store (`JSON.stringify` of the policy, keys in their order).
    pub fn to_json(&self) -> String {
        let visibility = match self.visibility {
            Visibility::Public => "public",
            Visibility::Private => "private",
        };
        let mut out = JsonObject::default();
        out.string("owner", Some(&self.owner)).string("visibility", Some(visibility));
        if let Some(rules) = &self.rules {
            let rules = rules
                .iter()
                .map(|rule| {
                    let mut group = JsonObject::default();
                    group.string("type", Some(&rule.group.kind)).string("id", Some(&rule.group.id));
                    let mut written = JsonObject::default();
                    written.object("group", group).string("permission", Some(rule.permission.as_str()));
                    written
                })
                .collect();
            out.objects("aclRules", rules);
        }
        out.finish()
    }
}

/// What the policy says about one user and permission.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decision<'a> {
    Allowed,
    Denied,
    /// Allowed if the user is a member of any of these groups (asked in this order, stopping
    /// at the first yes); denied otherwise.
    IfMemberOfAny(Vec<&'a Group>),
}

/// The decision of the generated apps' `canAccessObject`, without its group look-ups.
pub fn decide<'a>(policy: Option<&'a Policy>, user_id: Option<&str>, requested: Permission) -> Decision<'a> {
    let Some(policy) = policy else { return Decision::Denied };
    if policy.visibility == Visibility::Public && requested == Permission::Read {
        return Decision::Allowed;
    }
    let Some(user_id) = user_id.filter(|id| !id.is_empty()) else { return Decision::Denied };
    if policy.owner == user_id {
        return Decision::Allowed;
    }
    let groups: Vec<&Group> = policy
        .rules
        .iter()
        .flatten()
        .filter(|rule| rule.permission.allows(requested))
        .map(|rule| &rule.group)
        .collect();
    if groups.is_empty() {
        Decision::Denied
    } else {
        Decision::IfMemberOfAny(groups)
    }
}

#[cfg(all(test, not(target_arch = "wasm32")))]
mod tests {
    use super::*;
    use crate::protocol::document::from_json;

    const GENERATED: &str = r#"{"owner":"user-1","visibility":"private","aclRules":[{"group":{"type":"team","id":"t1"},"permission":"read"},{"group":{"type":"team","id":"t2"},"permission":"write"}]}"#;

    fn group(id: &str) -> Group {
        Group { kind: "team".into(), id: id.into() }
    }

    #[test]
    fn a_policy_the_generated_apps_wrote_reads_and_writes_back_identically() {
        let policy: Policy = from_json(GENERATED).unwrap();
        assert_eq!(policy.owner, "user-1");
        assert_eq!(policy.visibility, Visibility::Private);
        assert_eq!(
            policy.rules,
            Some(vec![
                Rule { group: group("t1"), permission: Permission::Read },
                Rule { group: group("t2"), permission: Permission::Write },
            ])
        );
        assert_eq!(policy.to_json(), GENERATED);
        let bare: Policy = from_json(r#"{"owner":"o","visibility":"public"}"#).unwrap();
        assert_eq!(bare.rules, None);
        assert_eq!(bare.to_json(), r#"{"owner":"o","visibility":"public"}"#);
    }

    #[test]
    fn malformed_policies_say_what_is_wrong() {
        let cases = [
            (r#"{"visibility":"public"}"#, "`owner` is missing"),
            (r#"{"owner":"o","visibility":"open"}"#, "`visibility` must be \"public\" or \"private\""),
            (r#"{"owner":"o","visibility":"public","aclRules":{}}"#, "`aclRules` must be an array"),
            (
                r#"{"owner":"o","visibility":"public","aclRules":[{"group":{"type":"t","id":"i"},"permission":"own"}]}"#,
                "`aclRules[]`: `permission` must be \"read\" or \"write\"",
            ),
            (
                r#"{"owner":"o","visibility":"public","aclRules":[{"group":{"type":"t"},"permission":"read"}]}"#,
                "`aclRules[]`: `group.id` is missing",
            ),
            (r#"{"owner":5,"visibility":"public"}"#, "`owner` must be a string"),
        ];
        for (json, expected) in cases {
            assert_eq!(from_json::<Policy>(json).unwrap_err(), expected, "{json}");
        }
    }

    #[test]
    fn no_policy_denies_everyone() {
        assert_eq!(decide(None, Some("user-1"), Permission::Read), Decision::Denied);
    }

    #[test]
    fn public_objects_are_readable_by_anyone_but_writable_only_by_grant() {
        let policy: Policy = from_json(r#"{"owner":"o","visibility":"public"}"#).unwrap();
        assert_eq!(decide(Some(&policy), None, Permission::Read), Decision::Allowed);
        assert_eq!(decide(Some(&policy), Some("stranger"), Permission::Write), Decision::Denied);
        assert_eq!(decide(Some(&policy), Some("o"), Permission::Write), Decision::Allowed);
    }

    #[test]
    fn the_owner_may_do_anything_and_anonymous_users_nothing_private() {
        let policy: Policy = from_json(GENERATED).unwrap();
        assert_eq!(decide(Some(&policy), Some("user-1"), Permission::Write), Decision::Allowed);
        assert_eq!(decide(Some(&policy), None, Permission::Read), Decision::Denied);
        assert_eq!(decide(Some(&policy), Some(""), Permission::Read), Decision::Denied);
    }

    #[test]
    fn rules_ask_only_the_groups_that_grant_enough() {
        let policy: Policy = from_json(GENERATED).unwrap();
        let (t1, t2) = (group("t1"), group("t2"));
        assert_eq!(decide(Some(&policy), Some("u"), Permission::Read), Decision::IfMemberOfAny(vec![&t1, &t2]));
        assert_eq!(decide(Some(&policy), Some("u"), Permission::Write), Decision::IfMemberOfAny(vec![&t2]));
        let readers_only: Policy = from_json(
            r#"{"owner":"o","visibility":"private","aclRules":[{"group":{"type":"team","id":"t1"},"permission":"read"}]}"#,
        )
        .unwrap();
        assert_eq!(decide(Some(&readers_only), Some("u"), Permission::Write), Decision::Denied);
    }

    #[test]
    fn write_implies_read_and_nothing_else_does() {
        assert!(Permission::Write.allows(Permission::Read));
        assert!(Permission::Write.allows(Permission::Write));
        assert!(Permission::Read.allows(Permission::Read));
        assert!(!Permission::Read.allows(Permission::Write));
    }

    proptest::proptest! {
        #[test]
        fn any_policy_round_trips_through_its_json(
            owner in "\\PC{0,12}",
            public: bool,
            rules in proptest::collection::vec(("\\PC{0,6}", "\\PC{0,6}", proptest::bool::ANY), 0..4),
        ) {
            let policy = Policy {
                owner,
                visibility: if public { Visibility::Public } else { Visibility::Private },
                rules: Some(rules.into_iter().map(|(kind, id, write)| Rule {
                    group: Group { kind, id },
                    permission: if write { Permission::Write } else { Permission::Read },
                }).collect()),
            };
            let json = policy.to_json();
            let parsed: serde_json::Value = serde_json::from_str(&json).unwrap();
            proptest::prop_assert_eq!(from_json::<Policy>(&json).unwrap(), policy);
            proptest::prop_assert!(parsed.is_object());
        }
    }
}
