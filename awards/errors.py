"""The ways an awards use case is refused, each with its API code."""

from django.utils.translation import gettext_lazy as _

from config.problems import ConflictError, DomainError, NotFoundError


class AwardNotFound(NotFoundError):
    title = _("Not found.")


class NotAllowed(DomainError):
    status = 403
    code = "permission_denied"
    title = _("You may see this batch but not do this.")


class DuplicateBatch(ConflictError):
    code = "duplicate_batch"
    title = _("This category already has a batch with this number.")


class BatchLocked(ConflictError):
    code = "batch_locked"
    title = _("This batch can no longer be changed.")


class InvalidTransition(ConflictError):
    code = "invalid_transition"
    title = _("The batch is not in a state that allows this.")


class UndecidedNominations(ConflictError):
    code = "undecided_nominations"
    title = _(
        "Every nomination must be decided (awarded, not awarded or withdrawn) first."
    )


class DuplicateReview(ConflictError):
    code = "duplicate_review"
    title = _("You have already reviewed this nomination.")


class InvalidRunOfShow(DomainError):
    code = "invalid"
    title = _("The run-of-show names nominations that are not awarded in this batch.")


class CertificateNotRevoked(ConflictError):
    code = "not_revoked"
    title = _("Only a revoked certificate can be reissued.")


class DistrictInUse(ConflictError):
    code = "district_in_use"
    title = _("Recipients are in this district: it stays on the list.")
