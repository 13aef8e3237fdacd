package identity

import "github.com/gatehouse/gatehouse/internal/page"

// The orders of ListUsers (UserFilter.Sort) and their cursors. Each order
// is one index's: identity_users' primary key (or, with a role filter,
// identity_user_roles_role), identity_users_email, identity_users_name.

// listedUser is a row of listUsers with its sort key (the cursor's value).
type listedUser struct {
	User
	key string
}

// cursorKey is the next page's cursor for the last row of a page. A cursor
// names its order (the default's is the bare id, as before orders existed).
func cursorKey(sort string) func(listedUser) []string {
	return func(l listedUser) []string {
		switch sort {
		case SortEmail:
			return []string{SortEmail, l.key}
		case SortName:
			return []string{SortName, "." + l.key, l.ID} // "." + : a name may be empty
		}
		return []string{l.ID}
	}
}

// userCursor is the condition that starts a page after token. A token
// names its order (the default's is the bare id), so one from another order
// is refused.
func userCursor(token, sort, sortKey string, arg func(any) string) (string, error) {
	switch sort {
	case SortEmail:
		after, err := page.Decode(token, 2)
		if err != nil || after[0] != SortEmail {
			return "", page.ErrBadToken
		}
		return sortKey + " > " + arg(after[1]), nil
	case SortName:
		after, err := page.Decode(token, 3)
		if err != nil || after[0] != SortName || after[1][0] != '.' {
			return "", page.ErrBadToken
		}
		return "(u.name_normalized, u.id) > (" + arg(after[1][1:]) + ", " + arg(after[2]) + ")", nil
	}
	after, err := page.Decode(token, 1)
	if err != nil {
		return "", err
	}
	return sortKey + " > " + arg(after[0]), nil
}
