// CAS method=POST: submit the ticket form to the application without a click.
document.getElementById('redirect-form').submit();
