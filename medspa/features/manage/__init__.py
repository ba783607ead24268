"""The public "manage booking" page `/book/[clinic]/manage/[token]`: move or cancel a visit."""
