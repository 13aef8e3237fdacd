// Package authz decides who may do what: Gatehouse's own permissions
// (built-in rules, self-service, scopes), the policy API and the OpenID
// AuthZEN decision API, over one Casbin model (model.go).
//
// One decision, end to end — POST /access/v1/evaluation asking whether
// user u may "read" docs:7:
//
//  1. authzen.go decodes the request; Service.Evaluate (evaluate.go) reads
//     u's direct roles from identity through the role cache (internal/cache,
//     RoleTTL).
//  2. engine.decide (decide.go) takes the current snapshot — everything
//     derived from one load of the tables, swapped in whole on reload —
//     and expands the roles through role inheritance (derived once per
//     load) into the effective roles.
//  3. The per-subject index (partition.go) yields the few Casbin enforcers
//     that can hold a matching rule: for the subject "user:u" and each
//     effective "role:<r>", the one of its rules on type "docs" and the one
//     of its rules on a type pattern.
//  4. A decision none of whose rules has a condition is looked up in the
//     snapshot's decision cache. Otherwise each enforcer runs the one
//     model's matcher — resource, action, condition; the index has matched
//     the subject — over its lines, and the outcomes merge by load order
//     exactly as one enforcer over all rules would decide: the first
//     matching deny, else the first matching allow, and a condition that
//     fails to evaluate before any deny is ErrCondition, never a silent
//     deny.
//
// Decisions never touch the database: rules are reloaded when the version
// row in authz_state changes (at once in the instance that made the
// change, within a poll interval in the others).
//
// No escalation (covers.go): granting — a role to a user, a parent to a
// role, a policy — needs the granter to hold every right it grants, and
// acting on another user's credentials or status every right that user
// holds (CoversRole, CoversRule, CoversUser). These compare rule patterns
// statically over the loaded snapshot, on effective rights (inheritance,
// user:<id> rules, the granter's own denies and scopes); they run only on
// grant operations, never in a decision.
package authz
