# English — Hailong's second language.
app-name = Hailong
skip-to-content = Skip to main content
language-switch = Choose a language
language-vi = Tiếng Việt
language-en = English
footer-anonymity = Answers are stored anonymously: no IP address, device or time of day is kept.
back-home = Back to the home page
home-tagline = satisfaction surveys of public services
home-title = Citizen satisfaction with public services
home-intro = Hailong helps public agencies ask citizens about public services and publish satisfaction indices with confidence intervals for every locality.
home-open-campaigns = Surveys open now
home-no-campaigns = No survey is open at the moment.
home-campaign-dates = From { $from } to { $to }
home-campaign-scope = { $provinces } { $provinces ->
    [one] province
   *[other] provinces
}, { $localities } { $localities ->
    [one] commune
   *[other] communes
}
home-campaign-code = Survey code
home-for-developers = For developers
home-api-intro = The open surveys as JSON:
home-responses = { $count ->
    [one] { $count } response
   *[other] { $count } responses
}
error-title = Error { $status }
error-page_not_found = This page does not exist.
error-campaign_not_found = This survey does not exist.
error-language_not_found = This language is not supported.
error-validation_failed = Some of the input is not valid. See the problems below.
error-invalid_json = Invalid JSON: { $detail }
error-unsupported_media_type = Unsupported content type.
error-payload_too_large = The data sent is too large.
error-unauthorized = Please sign in.
error-forbidden = You are not allowed to do this.
error-internal = Something went wrong. Please try again later.
error-invalid_length = Invalid length.
error-invalid_code = Invalid code: use only letters, digits, underscores, hyphens or dots.
error-duplicate_code = The code { $code } is used twice.
error-no_sections = A questionnaire needs at least one section.
error-no_questions = This section needs at least one question.
error-no_elements = An index needs at least one element.
error-no_criteria = An element needs at least one criterion.
error-criterion_without_questions = Criterion { $code } has no questions.
error-unknown_criterion = The index has no criterion { $code }.
error-weight_not_positive = A weight must be greater than 0.
error-scale_without_labels = A scale needs a label for every point.
error-scale_points_mismatch = A scale needs exactly one label for each point from { $min } to { $max }.
error-invalid_bounds = The minimum and maximum are not valid.
error-threshold_out_of_range = The "satisfied" threshold must lie on the scale.
error-too_few_options = A choice question needs at least two options.
error-index_needs_scale = Only scale questions can feed an index.
error-condition_on_itself = A condition cannot depend on its own question.
error-condition_not_earlier = A condition must depend on an earlier question: { $code }.
error-condition_needs_value = A condition needs a value to compare with.
error-missing_vietnamese = The Vietnamese text is missing.
error-invalid_language = Invalid language code: { $code }.
error-text_too_long = The text is too long.
# Staff: sign-in, accounts, roles, API tokens, audit log.
staff-nav-label = Staff area
staff-nav-home = Dashboard
staff-nav-users = Accounts
staff-nav-audit = Audit log
staff-nav-tokens = API tokens
staff-nav-account = My password
staff-sign-out = Sign out
staff-signed-in-as = Signed in as { $email } ({ $role })
staff-dashboard-title = Dashboard
role-admin = Administrator
role-designer = Survey designer
role-field_manager = Field manager
role-analyst = Analyst
login-title = Staff sign-in
login-email = Email
login-password = Password
login-submit = Sign in
login-failed = The email or password is not correct.
login-too-many = Too many failed sign-ins. Please try again in { $minutes } { $minutes ->
    [one] minute
   *[other] minutes
}.
account-title = Change password
account-current = Current password
account-new = New password (at least 12 characters)
account-confirm = Repeat the new password
account-change = Change password
account-change-hint = After a password change every session of yours ends and you sign in again.
account-password-changed = Your password was changed.
account-wrong-current = The current password is not correct.
account-mismatch = The two new passwords differ.
users-title = Staff accounts
users-email = Email
users-role = Role
users-localities = Restricted to
users-everywhere = Everywhere
users-created = Created
users-change = Change
users-inactive = disabled
users-active = Active
users-save = Save
users-new = New account
users-initial-password = Initial password (at least 12 characters; the user should change it at once)
users-localities-hint = Restrict to locality codes (comma-separated; empty = everywhere)
users-create = Create account
users-done-created = The account was created.
users-done-updated = The account was updated.
users-duplicate = An account with this email already exists.
users-not-yourself = You cannot disable yourself or remove your own administrator role.
tokens-title = API tokens
tokens-intro = API tokens let scripts (R, Python…) read data with your rights. Send the token in the header Authorization: Bearer.
tokens-copy-now = Copy this token now: it will not be shown again.
tokens-name = Token name
tokens-prefix = Starts with
tokens-created = Created
tokens-last-used = Last used
tokens-revoked = Revoked
tokens-revoke = Revoke
tokens-create = Create token
audit-title = Audit log
audit-count = { $total } { $total ->
    [one] entry
   *[other] entries
}
audit-at = When
audit-staff = Who
audit-action = Action
audit-object = Object
audit-detail = Detail
audit-pages = Pages
audit-newer = Newer
audit-older = Older
error-bad_form = The form is not valid.
error-user_not_found = No such account.
error-token_not_found = No such API token.
error-invalid_email = The email address is not valid.
error-invalid_role = The role is not valid.
error-password_too_short = The password needs at least { $min } characters.
error-invalid_token_name = A token name needs 1 to 100 characters.
error-bad_request = The request is not valid: { $detail }

## Localities, sampling frames and sample planning (issue 9)
plan-title = Sample planning
plan-intro = Compute how many people to survey in each area for a target margin of error, or share a total across areas and see the expected margins of error.
plan-level = Level of the strata
plan-level-province = Province
plan-level-district = District
plan-level-commune = Commune
plan-level-village = Village
plan-on = Administrative units as valid on
plan-moe = Target margin of error (± percentage points)
plan-p = Expected share satisfied (%)
plan-deff = Design effect (deff)
plan-response_rate = Expected response rate (%)
plan-confidence = Confidence level (%)
plan-budget = Total people to contact (budget)
plan-allocation = Allocation
plan-allocation-equal = Equal
plan-allocation-proportional = Proportional to population
plan-allocation-sqrt = Proportional to the square root of population
plan-allocation-neyman = Neyman (by expected variance)
plan-minimum = Minimum per area
plan-priors = Expected share satisfied per area for Neyman (one line each: code, %)
plan-take = Interviews per commune (to count the communes to draw)
plan-clusters = Communes to draw
plan-compute = Compute
plan-code = Code
plan-name = Name
plan-population = Population
plan-required = Needed for the target margin
plan-allocated = Allocated
plan-expected-moe = Expected margin (points)
plan-total = Total
plan-error-number = { $field }: not a valid number.
plan-error-range = { $field }: the value is out of range.
plan-error-budget = The total is below the sum of the minimums ({ $needed }).
plan-error-no-strata = No administrative units at this level on the chosen date.
plan-error-prior = Neyman allocation needs an expected share for area { $code }.
plan-error-population = Area { $code } has no population figures.
