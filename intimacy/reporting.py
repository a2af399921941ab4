"""What an error report may show: nothing that anyone typed into Tend, and no secret link token."""

from django.views.debug import ExceptionReporter, SafeExceptionReporterFilter

from accounts.redaction import redact


class TendExceptionReporterFilter(SafeExceptionReporterFilter):
    """Hides every POST value and every traceback variable, with DEBUG on or off.

    Django's own filter hides only what a view names with `sensitive_post_parameters` and
    `sensitive_variables`, which every new clinical form would have to remember. In Tend nearly every
    POST carries someone's words, a rating, a fact about a back rub, a password or a token, and the
    services hold the same answers in their local variables, so all of it is hidden. What stays is
    enough to debug with: the parameter names (they tell which form it was), the GET parameters (only
    periods, pages and filters), and the traceback's files, lines and code.

    Cookie values are hidden too (the session cookie is a key to someone's signed-in session), and
    the request's headers and environment (META: the path, the Referer) lose the token of any
    secret link (accounts/redaction.py).

    Active with DEBUG on too: a debug page over a copy of real data must not show it either.
    """

    def is_active(self, request) -> bool:
        return True

    def get_post_parameters(self, request):
        if request is None:
            return {}
        cleansed = request.POST.copy()
        for name in cleansed:
            cleansed.setlist(name, [self.cleansed_substitute])
        return cleansed

    def get_traceback_frame_variables(self, request, tb_frame):
        return [(name, self.cleansed_substitute) for name in tb_frame.f_locals]

    def get_safe_cookies(self, request):
        return {name: self.cleansed_substitute for name in getattr(request, "COOKIES", {})}

    def get_safe_request_meta(self, request):
        meta = super().get_safe_request_meta(request)
        return {name: redact(value) if isinstance(value, str) else value for name, value in meta.items()}


class _ReportedRequest:
    """The parts of a request that Django's report templates read, with the path's secret redacted."""

    def __init__(self, request) -> None:
        self.path_info = redact(request.path_info)
        self.META = {"REQUEST_METHOD": request.META.get("REQUEST_METHOD", "")}
        self.GET, self.FILES, self.COOKIES = request.GET, request.FILES, request.COOKIES


class TendExceptionReporter(ExceptionReporter):
    """Django's error report (debug page, admin error email) without any secret link token.

    The filter above cleans what it is handed (POST, META, cookies, variables); the request's path,
    its full URL, GET values (a `?next=` link) and the exception messages are read by the report
    itself, so they are redacted here.
    """

    def get_traceback_data(self) -> dict:
        data = super().get_traceback_data()
        if self.request is not None:
            data["request"] = _ReportedRequest(self.request)
            data["request_insecure_uri"] = redact(data["request_insecure_uri"])
            data["request_GET_items"] = [(name, redact(value)) for name, value in data["request_GET_items"]]
        if data.get("exception_value"):
            data["exception_value"] = redact(data["exception_value"])
        for frame in data.get("frames", []):
            if frame.get("exc_cause"):
                frame["exc_cause"] = redact(str(frame["exc_cause"]))
        return data
