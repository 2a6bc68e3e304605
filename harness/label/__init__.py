"""Blind labelling of transcripts in the browser (`sdi label`): the order in which transcripts
are shown, the label set they are written to, and the local page that serves them."""
