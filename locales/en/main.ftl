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
## Collecting answers (survey pages, kiosks, submission API)
error-unknown_question = There is no question { $code } in this survey.
error-answer_to_hidden_question = This question is not asked given your earlier answers, so it must not be answered.
error-answer_required = Please answer this question.
error-dont_know_not_offered = "Don't know" is not offered for this question.
error-not_applicable_not_offered = "Not applicable" is not offered for this question.
error-expected_integer = Please give a whole number.
error-out_of_range = Please give a value from { $min } to { $max }.
error-unknown_option = "{ $value }" is not one of the options.
error-expected_option = Please choose one option.
error-expected_options = Please give a list of options.
error-duplicate_option = The option "{ $value }" is chosen twice.
error-empty_answer = The answer is empty.
error-expected_boolean = Please answer yes or no.
error-expected_text = Please answer with text.
error-invalid_text = The text contains characters that are not allowed.
error-answer_too_long = The answer is too long (at most { $max } characters).
error-json_bom = The JSON must not start with a byte-order mark.
error-invalid_utf8 = The data sent is not valid UTF-8 text.
error-duplicate_key = The JSON object repeats a key: { $detail }
error-expected_object = The JSON must be an object.
error-missing_field = This field is required.
error-unknown_field = This field is not known.
error-invalid_submission_id = The submission id must be a UUID.
error-unknown_locality = This locality is not part of the survey.
error-invalid_channel = Unknown channel.
error-campaign_closed = This survey is closed and no longer accepts answers.
error-campaign_not_open = This survey is not open yet.
error-storage_unavailable = Your answers could not be saved. Please try again.
error-invalid_form = The form data could not be read: { $detail }
survey-required = (required)
survey-error-title = Please check your answers
survey-progress = Part { $current } of { $total }
survey-more-questions = Your answers open further questions below. Please answer them, then continue.
survey-locality = Where did you use the service?
survey-locality-help = Choose your commune or ward. Your answers stay anonymous.
survey-choose = — Choose —
survey-next = Continue
survey-back = Back
survey-submit = Send my answers
survey-yes = Yes
survey-no = No
survey-dont-know = Don't know
survey-not-applicable = Not applicable
survey-thanks-title = Thank you!
survey-thanks-body = Your answers have been received. They are stored anonymously.
survey-again = Answer again
kiosk-returning = This screen will return to the start in a few seconds.
