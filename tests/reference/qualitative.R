# Reference values for servicestudy.qualitative (tests/test_qualitative.py).
# irr (kappa2, kripp.alpha) is not installable here, so Cohen's kappa and Krippendorff's alpha
# are implemented below independently, by their textbook definitions and by a different route
# from the Python code: kappa from the cross table of the two coders; alpha from the pairwise
# disagreements of all pairable values (D_o within units, D_e across all values), not from the
# coincidence matrix. Krippendorff's (2011) published worked example is stored beside it.
# Wilson intervals come from prop.test(correct = FALSE), t intervals from t.test.
# Run from the repository root: Rscript tests/reference/qualitative.R
library(jsonlite)

kappa_xtab <- function(a, b) {
  ok <- !is.na(a) & !is.na(b)
  a <- a[ok]; b <- b[ok]
  lev <- sort(unique(c(a, b)))
  tab <- table(factor(a, lev), factor(b, lev))
  n <- sum(tab)
  po <- sum(diag(tab)) / n
  pe <- sum(rowSums(tab) * colSums(tab)) / n^2
  c(kappa = (po - pe) / (1 - pe), po = po, pe = pe, n = n)
}

# alpha = 1 - D_o / D_e; pairs of values (ordered, i != j) within each unit with m_u >= 2,
# each weighted 1 / (m_u - 1); D_e from all ordered pairs of the pairable values.
alpha_pairs <- function(d, delta) {
  vals <- list(); do_num <- 0
  for (u in seq_len(nrow(d))) {
    v <- d[u, ]; v <- v[!is.na(v)]; m <- length(v)
    if (m < 2) next
    vals[[length(vals) + 1]] <- v
    for (i in seq_len(m)) for (j in seq_len(m)) if (i != j) do_num <- do_num + delta(v[i], v[j]) / (m - 1)
  }
  all <- unlist(vals); n <- length(all)
  de_num <- 0
  for (i in seq_len(n)) for (j in seq_len(n)) if (i != j) de_num <- de_num + delta(all[i], all[j])
  do <- do_num / n; de <- de_num / (n * (n - 1))
  c(alpha = 1 - do / de, do = do, de = de, n_values = n)
}
nominal <- function(x, y) as.numeric(x != y)
interval <- function(x, y) (x - y)^2

# Krippendorff (2011), "Computing Krippendorff's alpha-reliability", example C:
# 4 observers x 12 units with missing values. Published: nominal 0.743, interval 0.849.
kripp_c <- rbind(
  c(1, 2, 3, 3, 2, 1, 4, 1, 2, NA, NA, NA),
  c(1, 2, 3, 3, 2, 2, 4, 1, 2, 5, NA, 3),
  c(NA, 3, 3, 3, 2, 3, 4, 2, 2, 5, 1, NA),
  c(1, 2, 3, 3, 2, 4, 4, 1, 2, 5, 1, NA))
units_c <- t(kripp_c)  # units x coders

# two coders, binary theme present/absent on 40 segments (fixed pattern)
set.seed(20221015)
a2 <- rbinom(40, 1, 0.35)
b2 <- ifelse(runif(40) < 0.8, a2, 1 - a2)
# two coders, three themes as single labels, with a missing code
a3 <- c("x", "y", "z", "x", "x", "y", "z", "z", "x", "y", "y", "x", "z", "x", NA, "y")
b3 <- c("x", "y", "y", "x", "z", "y", "z", "z", "x", "x", "y", "x", "z", "y", "x", "y")

cases <- list(
  list(name = "kripp2011_C", units = lapply(seq_len(nrow(units_c)), function(i) units_c[i, ]),
       nominal = as.list(alpha_pairs(units_c, nominal)),
       interval = as.list(alpha_pairs(units_c, interval)),
       published = list(nominal = 0.743, interval = 0.849)),
  list(name = "binary40", a = a2, b = b2,
       kappa = as.list(kappa_xtab(a2, b2)),
       nominal = as.list(alpha_pairs(cbind(a2, b2), nominal))),
  list(name = "three_labels", a = a3, b = b3,
       kappa = as.list(kappa_xtab(a3, b3)),
       nominal = as.list(alpha_pairs(cbind(match(a3, c("x", "y", "z")), match(b3, c("x", "y", "z"))), nominal)))
)

wilson <- lapply(list(c(17, 60), c(0, 25), c(25, 25), c(3, 7)), function(xn) {
  ci <- suppressWarnings(prop.test(xn[1], xn[2], correct = FALSE, conf.level = 0.95))$conf.int
  list(x = xn[1], n = xn[2], ci_low = ci[1], ci_high = ci[2])
})

with_theme <- c(2, 3, 3, 4, 2, 1, 3, 2.5, 3.5, 2)
without_theme <- c(4, 4, 5, 3, 4, 4.5, 3, 5, 4, 4, 3.5, 5)
tt1 <- t.test(with_theme, conf.level = 0.95)
tt2 <- t.test(with_theme, without_theme, var.equal = FALSE, conf.level = 0.95)
ttests <- list(with = with_theme, without = without_theme,
               mean_with = unname(tt1$estimate), ci_low = tt1$conf.int[1], ci_high = tt1$conf.int[2],
               diff = unname(tt2$estimate[1] - tt2$estimate[2]),
               diff_ci_low = tt2$conf.int[1], diff_ci_high = tt2$conf.int[2])

out <- list(
  r_version = R.version.string,
  packages = list(jsonlite = as.character(packageVersion("jsonlite"))),
  note = "kappa and alpha by independent base-R formulas (irr not installable); Wilson by prop.test(correct=FALSE); t by t.test",
  agreement = cases, wilson = wilson, ttest = ttests)
# full precision: the shortest of %.15g/%.16g/%.17g that reads back to the same double
short <- function(v) {
  if (is.na(v)) return("null")
  for (d in 15:17) { s <- sprintf(paste0("%.", d, "g"), v); if (as.numeric(s) == v) return(s) }
  s
}
verb <- function(x) {
  if (is.list(x)) return(lapply(x, verb))
  if (is.numeric(x) && is.null(dim(x))) {
    s <- vapply(as.numeric(x), short, "")
    out <- if (length(x) == 1L && is.null(names(x))) s else paste0("[", paste(s, collapse = ","), "]")
    return(structure(out, class = "json"))
  }
  x
}
write_json(verb(out), "tests/reference/qualitative.json", auto_unbox = TRUE,
           json_verbatim = TRUE, pretty = TRUE, null = "null", na = "null")
chk <- fromJSON("tests/reference/qualitative.json", simplifyVector = FALSE)
stopifnot(identical(chk$agreement[[1]]$nominal$alpha, out$agreement[[1]]$nominal[["alpha"]]))
cat("written\n")
