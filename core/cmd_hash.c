/* placeholder: filled by its group's work (issue 3) */
