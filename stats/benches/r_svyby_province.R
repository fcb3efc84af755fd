#!/usr/bin/env Rscript
# R's survey package on the benchmark data, for comparison with `hailong estimate`.
# Usage: Rscript r_svyby_province.R /tmp/survey.csv
# (By commune R runs out of memory: svyby builds the covariance of all domain x item estimates.)
suppressMessages(library(survey))
args <- commandArgs(trailingOnly = TRUE)
path <- if (length(args)) args[1] else "/tmp/survey.csv"
t_read <- system.time(
  d <- read.csv(path, colClasses = c(province = "character", stratum = "character",
                                     commune = "character"))
)
cat(sprintf("read.csv: %.1f s (%d rows)\n", t_read[["elapsed"]], nrow(d)))
items <- paste0("q", 1:20)
t_design <- system.time(
  des <- svydesign(ids = ~commune, strata = ~stratum, weights = ~weight, data = d)
)
cat(sprintf("svydesign: %.1f s\n", t_design[["elapsed"]]))
f <- as.formula(paste("~", paste(items, collapse = "+")))
t_by <- system.time(
  r <- svyby(f, ~province, des, svymean, na.rm = TRUE)
)
cat(sprintf("svyby(~q1+...+q20, ~province, svymean, na.rm = TRUE): %.1f s\n", t_by[["elapsed"]]))
# Each item on its own respondents, as Hailong does: one svyby per item.
t_each <- system.time(
  for (it in items) svyby(as.formula(paste0("~", it)), ~province, des, svymean, na.rm = TRUE)
)
cat(sprintf("svyby per item (20 calls, each item on its own respondents): %.1f s\n",
            t_each[["elapsed"]]))
cat(sprintf("max memory (gc): %.0f MB\n", sum(gc()[, 6])))
