"""What an error report may show: nothing that anyone typed into Tend."""

from django.views.debug import SafeExceptionReporterFilter


class TendExceptionReporterFilter(SafeExceptionReporterFilter):
    """Hides every POST value and every traceback variable, with DEBUG on or off.

    Django's own filter hides only what a view names with `sensitive_post_parameters` and
    `sensitive_variables`, which every new clinical form would have to remember. In Tend nearly every
    POST carries someone's words, a rating, a fact about a back rub, a password or a token, and the
    services hold the same answers in their local variables, so all of it is hidden. What stays is
    enough to debug with: the parameter names (they tell which form it was), the GET parameters (only
    periods, pages and filters), and the traceback's files, lines and code.

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
