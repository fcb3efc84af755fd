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

## Results for analysts (issue 6)
results-national = National
error-invalid_level = Invalid level: { $detail }. Use national, province or commune.
error-unknown_index = The campaign has no index { $detail }.
error-index_not_found = This campaign has no index to compute.
export-col-row = Response number (not linked to the respondent)
export-col-province = Province code (empty when too few responses)
export-col-commune = Commune code (empty when too few responses: merged into the province)
export-col-stratum = Sampling stratum
export-col-psu = Primary sampling unit (pseudonymous)
export-col-base-weight = Base weight (inverse selection probability)
export-col-weight = Weight after calibration
export-col-cal = Calibration cell province|category
export-chosen = Chosen
export-not-chosen = Not chosen
export-yes = Yes
export-no = No
results-title = Results
results-views = Ways to view the results
results-tab-overview = Overview
results-tab-table = Table by locality
results-tab-forest = Interval chart
results-tab-ranks = Rank bands
results-index = Index
results-show = Show
results-stale = New responses arrived since { $at }; the results are being recomputed.
results-method = Method
results-method-ci = Share satisfied, weighted for the sampling design (strata, clusters, weights, calibration); 95% confidence intervals (estimate ± t × standard error, Taylor linearisation, equal to R's survey package).
results-method-suppression = No estimate is published from fewer than { $min_n } respondents, or for a locality with fewer than { $min_df } own degrees of freedom (primary sampling units minus strata).
results-calibration-none = Weights are not calibrated to the population.
results-calibration-done = Weights are raked to each province's population structure: { $variables }.
results-calibration-skipped = The weights could not be calibrated ({ $reason }); results use the base weights.
results-computed-at = Computed at { $at }.
results-download = Download
results-suppressed = Not published
results-reason-too-few-respondents = fewer than { $min } respondents
results-reason-too-few-psus = fewer than { $min } own degrees of freedom
results-reason-not-estimable = no answers
results-ci = 95% confidence interval: { $low }–{ $high }%
results-n = { $n } respondents
results-no-data = No data yet.
results-responses = { $n } responses
results-provinces = By province
results-locality = Locality
results-estimate-ci = Satisfied % [95% CI]
results-fieldwork = Fieldwork progress
results-fieldwork-total = { $n } of { $target } planned responses collected.
results-responses-col = Responses
results-target = Against the plan
results-skipped-indices = Indices not computed (aggregation not supported yet): { $list }
results-level-province = Province
results-level-commune = Commune
results-level-national = National
results-forest-legend = Each row: the estimate (vertical mark) and its 95% confidence interval (horizontal bar), in %.
results-forest-national = Dashed red line: national ({ $value }%).
results-part = Index, element, criterion
results-rank-band = Rank band
results-ranks-explain = The ranks each locality could have given the confidence intervals: localities whose intervals overlap cannot be told apart, so there is no strict ranking.
error-locality_not_found = There are no results for this locality.
