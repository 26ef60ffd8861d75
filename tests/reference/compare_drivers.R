# Reference values for servicestudy.describe / compare / drivers.
#
# Generates a small deterministic survey-like data set with groups in R, writes it to
# compare_drivers.csv (full precision, empty field = NA) and computes every reference value with
# base R, sandwich, lmtest, car, MASS and survey, or by formula where no installed package
# provides the statistic (Games-Howell, Brant test, dominance analysis, relative weights).
# Output: compare_drivers.json (full precision, NA -> null).
#
# Run from the repository root:  Rscript tests/reference/compare_drivers.R
suppressPackageStartupMessages({
  library(jsonlite); library(sandwich); library(lmtest); library(car); library(MASS)
  library(survey)
})
here <- "tests/reference"
set.seed(20261128)
n <- 240

# ---------------------------------------------------------------- data
gender <- factor(sample(c("female", "male"), n, replace = TRUE, prob = c(.55, .45)),
                 levels = c("female", "male"))
edu <- factor(sample(c("junior", "senior", "college", "graduate"), n, replace = TRUE,
                     prob = c(.15, .35, .35, .15)),
              levels = c("junior", "senior", "college", "graduate"))
resident <- factor(sample(c("local", "migrant"), n, replace = TRUE, prob = c(.7, .3)),
                   levels = c("local", "migrant"))
# correlated latent predictors
S <- matrix(.3, 4, 4); diag(S) <- 1
Z <- matrix(rnorm(n * 4), n, 4) %*% chol(S)
likert <- function(z, shift = 0) as.integer(cut(z + shift, c(-Inf, -1.6, -.6, .4, 1.4, Inf)))
item4 <- function(z) {          # mean of four 5-point items driven by latent z
  m <- sapply(1:4, function(j) likert(.75 * z + sqrt(1 - .75^2) * rnorm(n), runif(1, -.3, .3)))
  rowMeans(m)
}
x1 <- item4(Z[, 1]); x2 <- item4(Z[, 2]); x3 <- item4(Z[, 3]); x4 <- item4(Z[, 4])
edu_eff <- c(0, .25, .35, .6)[as.integer(edu)]
edu_sd <- c(.6, .8, .9, 1.2)[as.integer(edu)]
ylat <- .45 * Z[, 1] + .3 * Z[, 2] + .15 * Z[, 4] + .2 * (gender == "male") + edu_eff +
  edu_sd * rnorm(n) * .7
y <- round(3 + .6 * ylat, 6)   # continuous satisfaction score
y_ord <- likert(ylat - .2)
# four satisfaction items of one dimension; q4 reverse keyed
qlat <- .6 * Z[, 1] + .8 * rnorm(n)
q <- sapply(1:4, function(j) likert(.8 * qlat + .6 * rnorm(n), runif(1, -.4, .4)))
q[, 4] <- 6L - q[, 4]
colnames(q) <- paste0("q", 1:4)
w <- round(runif(n, .5, 2), 4)
small_cat <- factor(sample(c("a", "b", "c"), n, replace = TRUE, prob = c(.9, .07, .03)),
                    levels = c("a", "b", "c"))
dat <- data.frame(id = 1:n, gender, edu, resident, small_cat, x1, x2, x3, x4, y, y_ord, q, w)
# missing values
dat$y[c(5, 17, 60, 111, 200, 233)] <- NA
dat$x1[c(8, 17, 90, 150)] <- NA
dat$q1[c(3, 44, 71)] <- NA
dat$q3[c(12, 44)] <- NA
dat$gender[c(30, 31)] <- NA
dat$edu[c(77)] <- NA

fmt <- function(v) if (is.numeric(v)) ifelse(is.na(v), "", sprintf("%.17g", v)) else
  ifelse(is.na(v), "", as.character(v))
out <- as.data.frame(lapply(dat, fmt), stringsAsFactors = FALSE)
csv <- file.path(here, "compare_drivers.csv")
write.table(out, csv, sep = ",", row.names = FALSE, quote = FALSE, na = "")
back <- read.csv(csv, na.strings = "")
for (v in c("x1", "x2", "x3", "x4", "y", "w", "q1", "q2", "q3", "q4", "y_ord"))
  stopifnot(identical(as.numeric(back[[v]]), as.numeric(dat[[v]])))

num <- function(x) if (is.matrix(x) && length(x) == 1L) as.numeric(x) else unname(x)
ref <- list(
  dataset = "compare_drivers", data_file = "compare_drivers.csv", n_rows = n,
  generated_by = "tests/reference/compare_drivers.R",
  versions = list(R = R.version.string, sandwich = as.character(packageVersion("sandwich")),
                  lmtest = as.character(packageVersion("lmtest")),
                  car = as.character(packageVersion("car")),
                  MASS = as.character(packageVersion("MASS")),
                  survey = as.character(packageVersion("survey")),
                  jsonlite = as.character(packageVersion("jsonlite"))),
  levels = list(gender = levels(gender), edu = levels(edu), resident = levels(resident),
                small_cat = levels(small_cat)))

# ---------------------------------------------------------------- t tests, d, g
tt <- function(yv, g, var.equal) {
  r <- t.test(yv ~ g, var.equal = var.equal)
  ok <- !is.na(yv) & !is.na(g)
  y1 <- yv[ok & g == levels(g)[1]]; y2 <- yv[ok & g == levels(g)[2]]
  n1 <- length(y1); n2 <- length(y2)
  sp <- sqrt(((n1 - 1) * var(y1) + (n2 - 1) * var(y2)) / (n1 + n2 - 2))
  d <- (mean(y1) - mean(y2)) / sp
  m <- n1 + n2 - 2
  J <- exp(lgamma(m / 2) - log(sqrt(m / 2)) - lgamma((m - 1) / 2))
  list(call = sprintf("t.test(y ~ g, var.equal = %s)", var.equal),
       statistic = num(r$statistic), df = num(r$parameter), pvalue = r$p.value,
       ci_low = r$conf.int[1], ci_high = r$conf.int[2],
       estimate = num(r$estimate[1] - r$estimate[2]),
       mean1 = num(r$estimate[1]), mean2 = num(r$estimate[2]), n1 = n1, n2 = n2,
       cohens_d = d, hedges_g = d * J,
       d_formula = "(m1 - m2)/s_pooled; g = d * J, J = Gamma(m/2)/(sqrt(m/2) Gamma((m-1)/2)), m = n1+n2-2")
}
ref$t_y_gender <- list(welch = tt(dat$y, dat$gender, FALSE), pooled = tt(dat$y, dat$gender, TRUE))
ref$t_x1_resident <- list(welch = tt(dat$x1, dat$resident, FALSE),
                          pooled = tt(dat$x1, dat$resident, TRUE))

# ---------------------------------------------------------------- Mann-Whitney
mw <- function(yv, g) {
  r <- wilcox.test(yv ~ g, exact = FALSE, correct = TRUE)
  ok <- !is.na(yv) & !is.na(g)
  n1 <- sum(ok & g == levels(g)[1]); n2 <- sum(ok & g == levels(g)[2])
  U <- num(r$statistic)
  list(call = "wilcox.test(y ~ g, exact = FALSE, correct = TRUE)", statistic = U,
       pvalue = r$p.value, n1 = n1, n2 = n2, rank_biserial = 2 * U / (n1 * n2) - 1,
       rank_biserial_formula = "2 W/(n1 n2) - 1, W = R's statistic (U of level 1)")
}
ref$mw_y_gender <- mw(dat$y, dat$gender)
ref$mw_x1_resident <- mw(dat$x1, dat$resident)

# ---------------------------------------------------------------- ANOVA family
one <- function(yv, g) {
  ok <- !is.na(yv) & !is.na(g); yv <- yv[ok]; g <- droplevels(g[ok])
  a <- summary(aov(yv ~ g))[[1]]
  ssb <- a[1, "Sum Sq"]; ssw <- a[2, "Sum Sq"]; msw <- a[2, "Mean Sq"]; k <- nlevels(g)
  wel <- oneway.test(yv ~ g, var.equal = FALSE)
  cla <- oneway.test(yv ~ g, var.equal = TRUE)
  kw <- kruskal.test(yv ~ g)
  N <- length(yv)
  tk <- TukeyHSD(aov(yv ~ g), conf.level = .95)$g
  # Games-Howell by formula
  m <- tapply(yv, g, mean); v <- tapply(yv, g, var); nn <- tapply(yv, g, length)
  gh <- list()
  for (i in 1:(k - 1)) for (j in (i + 1):k) {
    se2 <- v[i] / nn[i] + v[j] / nn[j]
    df <- se2^2 / ((v[i] / nn[i])^2 / (nn[i] - 1) + (v[j] / nn[j])^2 / (nn[j] - 1))
    diff <- m[j] - m[i]; tval <- diff / sqrt(se2)
    crit <- qtukey(.95, k, df) / sqrt(2)
    gh[[paste0(levels(g)[j], "-", levels(g)[i])]] <- list(
      diff = num(diff), std_error = num(sqrt(se2)), t = num(tval), df = num(df),
      lwr = num(diff - crit * sqrt(se2)), upr = num(diff + crit * sqrt(se2)),
      p_adj = num(ptukey(abs(tval) * sqrt(2), k, df, lower.tail = FALSE)))
  }
  list(n = N, group_n = as.list(nn), group_means = as.list(m), group_sd = as.list(sqrt(v)),
       aov = list(df_between = a[1, "Df"], df_within = a[2, "Df"], ss_between = ssb,
                  ss_within = ssw, F = a[1, "F value"], p = a[1, "Pr(>F)"],
                  eta_squared = ssb / (ssb + ssw),
                  omega_squared = (ssb - (k - 1) * msw) / (ssb + ssw + msw)),
       welch = list(F = num(wel$statistic), df_num = num(wel$parameter[1]),
                    df_den = num(wel$parameter[2]), p = wel$p.value),
       classic_oneway_test = list(F = num(cla$statistic), df_num = num(cla$parameter[1]),
                                  df_den = num(cla$parameter[2]), p = cla$p.value),
       kruskal = list(statistic = num(kw$statistic), df = num(kw$parameter), p = kw$p.value,
                      epsilon_squared = num(kw$statistic) / ((N^2 - 1) / (N + 1))),
       tukey = lapply(split(as.data.frame(tk), rownames(tk)), as.list),
       games_howell = gh,
       calls = c("summary(aov(y ~ g))", "oneway.test(y ~ g, var.equal = FALSE/TRUE)",
                 "kruskal.test(y ~ g)", "TukeyHSD(aov(y ~ g))",
                 "Games-Howell by formula: t = (m_j - m_i)/sqrt(v_i/n_i + v_j/n_j), Welch df, p = ptukey(|t| sqrt 2, k, df, lower = FALSE), CI = diff +- qtukey(.95, k, df)/sqrt 2 * se",
                 "epsilon^2 = H / ((N^2 - 1)/(N + 1))",
                 "omega^2 = (SSb - (k-1) MSw)/(SSt + MSw)"))
}
ref$anova_y_edu <- one(dat$y, dat$edu)
ref$anova_x2_edu <- one(dat$x2, dat$edu)

# ---------------------------------------------------------------- chi-square
chi <- function(a, b, correct = TRUE) {
  tab <- table(a, b)
  w <- character(0)
  r <- withCallingHandlers(chisq.test(tab, correct = correct),
                           warning = function(e) { w <<- c(w, conditionMessage(e));
                           invokeRestart("muffleWarning") })
  r0 <- suppressWarnings(chisq.test(tab, correct = FALSE))
  N <- sum(tab)
  list(call = sprintf("chisq.test(table(a, b), correct = %s)", correct),
       statistic = num(r$statistic), df = num(r$parameter), pvalue = r$p.value, n = N,
       statistic_uncorrected = num(r0$statistic),
       cramers_v = sqrt(num(r0$statistic) / (N * (min(dim(tab)) - 1))),
       observed = unclass(as.matrix(tab)), expected = unclass(r$expected),
       warnings = w)
}
tabjson <- function(m) { out <- list(); for (i in rownames(m)) out[[i]] <- as.list(m[i, ]); out }
cg <- chi(dat$gender, dat$edu); cg$observed <- tabjson(cg$observed); cg$expected <- tabjson(cg$expected)
ref$chisq_gender_edu <- cg
cr <- chi(dat$resident, dat$gender); cr$observed <- tabjson(cr$observed); cr$expected <- tabjson(cr$expected)
ref$chisq_resident_gender_yates <- cr
hs <- factor(ifelse(dat$y_ord >= 4, "high", "low"), levels = c("high", "low"))
ch <- chi(hs, dat$gender); ch$observed <- tabjson(ch$observed); ch$expected <- tabjson(ch$expected)
ch$note <- "high_sat = y_ord >= 4 ('high', 'low'), computed from the CSV column y_ord"
ref$chisq_highsat_gender_yates <- ch
cs <- chi(dat$small_cat, dat$edu); cs$observed <- tabjson(cs$observed); cs$expected <- tabjson(cs$expected)
ref$chisq_smallcat_edu <- cs

# ---------------------------------------------------------------- p.adjust
comp <- list(
  y_gender = t.test(y ~ gender, dat)$p.value,
  y_edu = oneway.test(y ~ edu, dat)$p.value,
  x1_gender = t.test(x1 ~ gender, dat)$p.value,
  x1_edu = oneway.test(x1 ~ edu, dat)$p.value)
pv <- unlist(comp)
ref$compare_groups <- list(
  call = "Welch t.test (2 groups) / oneway.test(var.equal = FALSE) (3+), then p.adjust",
  pvalue = as.list(pv), holm = as.list(p.adjust(pv, "holm")), fdr_bh = as.list(p.adjust(pv, "BH")),
  np_pvalue = as.list(c(y_gender = wilcox.test(y ~ gender, dat, exact = FALSE)$p.value,
                        y_edu = kruskal.test(y ~ edu, dat)$p.value,
                        x1_gender = wilcox.test(x1 ~ gender, dat, exact = FALSE)$p.value,
                        x1_edu = kruskal.test(x1 ~ edu, dat)$p.value)))
ref$compare_groups$np_holm <- as.list(p.adjust(unlist(ref$compare_groups$np_pvalue), "holm"))

# ---------------------------------------------------------------- OLS
fit <- lm(y ~ x1 + x2 + x3 + x4, dat)
mf <- model.frame(fit)
cf <- summary(fit)$coefficients
hc <- lapply(c(HC0 = "HC0", HC1 = "HC1", HC2 = "HC2", HC3 = "HC3"),
             function(t) sqrt(diag(vcovHC(fit, type = t))))
coefs <- list()
for (nm in rownames(cf)) {
  coefs[[nm]] <- list(estimate = cf[nm, 1], se = cf[nm, 2], t = cf[nm, 3], p = cf[nm, 4],
                      ci_low = confint(fit)[nm, 1], ci_high = confint(fit)[nm, 2])
  for (t in names(hc)) {
    ct <- coeftest(fit, vcov. = vcovHC(fit, type = t))
    coefs[[nm]][[paste0("se_", t)]] <- num(hc[[t]][nm])
    coefs[[nm]][[paste0("p_", t)]] <- ct[nm, 4]
    ci <- coefci(fit, vcov. = vcovHC(fit, type = t))
    coefs[[nm]][[paste0("ci_low_", t)]] <- ci[nm, 1]; coefs[[nm]][[paste0("ci_high_", t)]] <- ci[nm, 2]
  }
}
sm <- summary(fit)
bp <- bptest(fit)
sw <- shapiro.test(residuals(fit))
cd <- cooks.distance(fit)
nobs_fit <- nobs(fit)
ref$ols <- list(
  call = "lm(y ~ x1 + x2 + x3 + x4, data) (NA rows dropped); sandwich::vcovHC(type); lmtest::coeftest/coefci; car::vif; lmtest::bptest (studentized); shapiro.test(residuals); cooks.distance",
  n = nobs_fit, n_dropped = n - nobs_fit, df_residual = fit$df.residual, coefficients = coefs,
  standardized_beta = as.list(sapply(c("x1", "x2", "x3", "x4"),
                                     function(v) unname(coef(fit)[v]) * sd(mf[[v]]) / sd(mf$y))),
  r_squared = sm$r.squared, adj_r_squared = sm$adj.r.squared,
  F = list(value = num(sm$fstatistic[1]), numdf = num(sm$fstatistic[2]),
           dendf = num(sm$fstatistic[3]),
           p = num(pf(sm$fstatistic[1], sm$fstatistic[2], sm$fstatistic[3], lower.tail = FALSE))),
  vif = as.list(vif(fit)),
  bp = list(statistic = num(bp$statistic), df = num(bp$parameter), p = num(bp$p.value)),
  shapiro = list(statistic = num(sw$statistic), p = sw$p.value),
  cooks_distance = as.list(setNames(num(cd), names(cd))),
  n_influential_4_over_n = sum(cd > 4 / nobs_fit))
# weighted least squares
fw <- lm(y ~ x1 + x2 + x3 + x4, dat, weights = w)
sw_ <- summary(fw); cfw <- sw_$coefficients
ref$wls <- list(call = "lm(y ~ x1 + x2 + x3 + x4, data, weights = w); car::vif(fit)",
                coefficients = lapply(split(as.data.frame(cfw), rownames(cfw)),
                                      function(r) list(estimate = r[[1]], se = r[[2]], t = r[[3]], p = r[[4]])),
                se_HC3 = as.list(sqrt(diag(vcovHC(fw, type = "HC3")))),
                r_squared = sw_$r.squared, adj_r_squared = sw_$adj.r.squared,
                F = num(sw_$fstatistic[1]), vif = as.list(vif(fw)),
                bp = list(statistic = num(bptest(fw)$statistic), p = num(bptest(fw)$p.value)),
                standardized_beta_weighted = as.list(setNames(sapply(c("x1", "x2", "x3", "x4"), function(v) {
                  mfw <- model.frame(fw); ww <- mfw[["(weights)"]]
                  wsd <- function(z) sqrt(sum(ww * (z - weighted.mean(z, ww))^2) / sum(ww))
                  unname(coef(fw)[v]) * wsd(mfw[[v]]) / wsd(mfw$y) }), c("x1", "x2", "x3", "x4"))))

# ---------------------------------------------------------------- polr + Brant by formula
pd <- dat[!is.na(dat$x1) & !is.na(dat$y_ord), ]
pd$yo <- factor(pd$y_ord, ordered = TRUE)
pf_ <- polr(yo ~ x1 + x2 + x3, pd, method = "logistic", Hess = TRUE)
sp <- summary(pf_)$coefficients
ref$polr <- list(
  call = "MASS::polr(ordered(y_ord) ~ x1 + x2 + x3, data (rows with NA x1 dropped), method = 'logistic', Hess = TRUE)",
  n = nrow(pd), levels = levels(pd$yo),
  coefficients = lapply(split(as.data.frame(sp[names(coef(pf_)), , drop = FALSE]), names(coef(pf_))),
                        function(r) list(estimate = r[[1]], se = r[[2]], z = r[[3]])),
  zeta = lapply(split(as.data.frame(sp[names(pf_$zeta), , drop = FALSE]), names(pf_$zeta)),
                function(r) list(estimate = r[[1]], se = r[[2]], z = r[[3]])),
  logLik = as.numeric(logLik(pf_)), deviance = pf_$deviance, convergence = pf_$convergence)
# the same fit converged tightly (optim reltol 1e-15): the default stops at reltol ~1.5e-8,
# which leaves ~1e-4 relative error in the estimates
pft <- polr(yo ~ x1 + x2 + x3, pd, method = "logistic", Hess = TRUE,
            control = list(reltol = 1e-15, maxit = 10000))
spt <- summary(pft)$coefficients
ref$polr_tight <- list(
  call = "MASS::polr(..., Hess = TRUE, control = list(reltol = 1e-15, maxit = 10000))",
  coefficients = lapply(split(as.data.frame(spt[names(coef(pft)), , drop = FALSE]), names(coef(pft))),
                        function(r) list(estimate = r[[1]], se = r[[2]], z = r[[3]])),
  zeta = lapply(split(as.data.frame(spt[names(pft$zeta), , drop = FALSE]), names(pft$zeta)),
                function(r) list(estimate = r[[1]], se = r[[2]], z = r[[3]])),
  logLik = as.numeric(logLik(pft)), convergence = pft$convergence)
# Brant (1990): J-1 binary logits of 1{Y > k}; joint covariance of the slope vectors
X <- cbind(1, as.matrix(pd[, c("x1", "x2", "x3")]))
yo <- as.integer(pd$yo); J <- nlevels(pd$yo); p <- ncol(X) - 1
fits <- lapply(1:(J - 1), function(k) glm(as.integer(yo > k) ~ X - 1, family = binomial,
                                          control = glm.control(epsilon = 1e-12, maxit = 100)))
pis <- sapply(fits, fitted)
beta <- unlist(lapply(fits, function(f) coef(f)[-1]))
V <- matrix(0, (J - 1) * p, (J - 1) * p)
blk <- function(k) ((k - 1) * p + 1):(k * p)
for (m in 1:(J - 1)) for (l in m:(J - 1)) {
  Wm <- pis[, m] * (1 - pis[, m]); Wl <- pis[, l] * (1 - pis[, l])
  Wml <- pis[, l] - pis[, m] * pis[, l]
  Vml <- solve(crossprod(X, X * Wm)) %*% crossprod(X, X * Wml) %*% solve(crossprod(X, X * Wl))
  V[blk(m), blk(l)] <- Vml[-1, -1]; V[blk(l), blk(m)] <- t(Vml[-1, -1])
}
D <- matrix(0, (J - 2) * p, (J - 1) * p)
for (k in 2:(J - 1)) { D[blk(k - 1), blk(1)] <- diag(p); D[blk(k - 1), blk(k)] <- -diag(p) }
db <- D %*% beta
X2 <- num(t(db) %*% solve(D %*% V %*% t(D)) %*% db)
per <- list()
for (j in 1:p) {
  idx <- seq(j, (J - 1) * p, by = p)
  Dj <- D[, idx, drop = FALSE]; Dj <- Dj[rowSums(abs(Dj)) > 0, , drop = FALSE]
  bj <- beta[idx]; Vj <- V[idx, idx]
  s <- num(t(Dj %*% bj) %*% solve(Dj %*% Vj %*% t(Dj)) %*% (Dj %*% bj))
  per[[colnames(pd[, c("x1", "x2", "x3")])[j]]] <- list(statistic = s, df = J - 2,
                                                         p = num(pchisq(s, J - 2, lower.tail = FALSE)))
}
ref$brant <- list(
  method = "Brant (1990) Wald test from J-1 binary logits of 1{Y>k}; Var(b_m, b_l) = (X'W_m X)^-1 X'W_ml X (X'W_l X)^-1 with W_ml = diag(pi_l - pi_m pi_l), l >= m; contrasts b_1 - b_k",
  binary_slopes = lapply(1:(J - 1), function(k) as.list(coef(fits[[k]])[-1])),
  omnibus = list(statistic = X2, df = (J - 2) * p, p = num(pchisq(X2, (J - 2) * p, lower.tail = FALSE))),
  per_predictor = per)

# ---------------------------------------------------------------- dominance + relative weights
dd <- na.omit(dat[, c("y", "x1", "x2", "x3", "x4")])
preds <- c("x1", "x2", "x3", "x4"); P <- length(preds)
R <- cor(dd)
r2 <- function(S) if (length(S) == 0) 0 else {
  rs <- R["y", S]; num(t(rs) %*% solve(R[S, S, drop = FALSE]) %*% rs) }
gd <- setNames(numeric(P), preds)
for (j in preds) {
  others <- setdiff(preds, j); tot <- 0
  for (s in 0:(P - 1)) {
    cmb <- if (s == 0) list(character(0)) else combn(others, s, simplify = FALSE)
    tot <- tot + mean(sapply(cmb, function(S) r2(c(S, j)) - r2(S)))
  }
  gd[j] <- tot / P
}
e <- eigen(R[preds, preds], symmetric = TRUE)
Lam <- e$vectors %*% diag(sqrt(e$values)) %*% t(e$vectors)
bet <- solve(Lam, R[preds, "y"])
rw <- setNames(as.numeric((Lam^2) %*% bet^2), preds)
ref$importance <- list(
  data = "complete rows of y, x1..x4", n = nrow(dd), r_squared = r2(preds),
  general_dominance = as.list(gd), general_dominance_rescaled = as.list(gd / sum(gd)),
  relative_weights = as.list(rw), relative_weights_rescaled = as.list(rw / sum(rw)),
  methods = c("general dominance = mean over subset sizes s of the mean increment R2(S+j) - R2(S), |S| = s, R2 from the correlation matrix",
              "Johnson (2000): Lambda = R_xx^(1/2) (symmetric), beta = Lambda^-1 r_xy, eps_j = sum_k Lambda_jk^2 beta_k^2"))

# ---------------------------------------------------------------- descriptives
q4r <- 6 - dat$q4
score <- rowMeans(cbind(dat$q1, dat$q2, dat$q3, q4r), na.rm = TRUE)
score[rowSums(!is.na(cbind(dat$q1, dat$q2, dat$q3, q4r))) == 0] <- NA
desc <- function(v) {
  v0 <- v[!is.na(v)]; tt <- t.test(v0)
  list(n = length(v0), mean = mean(v0), sd = sd(v0), se = sd(v0) / sqrt(length(v0)),
       ci_low = tt$conf.int[1], ci_high = tt$conf.int[2])
}
des <- svydesign(ids = ~1, weights = ~w, data = transform(dat, score = score, q4r = q4r))
wdesc <- function(f, v) {
  ok <- !is.na(v)
  d2 <- subset(des, ok)
  m <- svymean(f, d2)
  df <- sum(ok) - 1
  list(mean = num(coef(m)), se = num(SE(m)),
       ci_low = num(coef(m) - qt(.975, df) * SE(m)), ci_high = num(coef(m) + qt(.975, df) * SE(m)))
}
ref$describe <- list(
  note = "q4 is reverse keyed (scale 1..5, 6 - x); construct score = row mean of available reverse-coded items",
  q1 = desc(dat$q1), q3 = desc(dat$q3), q4_reversed = desc(q4r), construct = desc(score),
  q1_counts = as.list(table(factor(dat$q1, levels = 1:5))),
  weighted_call = "survey::svymean(~v, subset(svydesign(ids = ~1, weights = ~w, data), !is.na(v))); CI = mean +- qt(.975, n - 1) * SE",
  weighted_q1 = wdesc(~q1, dat$q1), weighted_construct = wdesc(~score, score))

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
write_json(verb(ref), file.path(here, "compare_drivers.json"), auto_unbox = TRUE,
           json_verbatim = TRUE, pretty = TRUE, null = "null", na = "null")
chk <- fromJSON(file.path(here, "compare_drivers.json"))
stopifnot(identical(chk$ols$coefficients$x1$se_HC3, ref$ols$coefficients$x1$se_HC3))
cat("written\n")
