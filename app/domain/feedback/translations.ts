// The words of the feedback email and the answer page, per language. To add a language, add
// an entry to MESSAGES with every key (the type makes a missing one a compile error); the
// shop's locale (email settings, BCP 47) picks it by its first subtag, English otherwise.
export type FeedbackMessages = {
  emailSubject: (shop: string) => string;
  reminderSubject: (shop: string) => string;
  emailPreview: (order: string) => string;
  greeting: (firstName: string | null) => string;
  emailIntro: (shop: string, order: string) => string;
  reminderIntro: (shop: string, order: string) => string;
  emailProductsHeading: string;
  emailButton: string;
  emailLinkFallback: string;
  pageTitle: (shop: string) => string;
  pageIntro: (order: string) => string;
  npsLegend: (shop: string) => string;
  npsLow: string;
  npsHigh: string;
  commentLabel: string;
  commentHint: (max: number) => string;
  productsHeading: string;
  starsLegend: (product: string) => string;
  star: (n: number) => string;
  reviewLabel: (product: string) => string;
  submit: string;
  update: string;
  thanks: string;
  thanksEdited: string;
  editAgain: string;
  errorTitle: string;
  invalidLink: string;
  expiredLink: string;
  invalidAnswer: string;
  npsRequired: string;
  tooLong: (max: number) => string;
};

const en: FeedbackMessages = {
  emailSubject: (shop) => `How was your order from ${shop}?`,
  reminderSubject: (shop) => `A quick reminder: how was your order from ${shop}?`,
  emailPreview: (order) => `Tell us about order ${order}: it takes a minute.`,
  greeting: (firstName) => (firstName ? `Hi ${firstName},` : "Hi,"),
  emailIntro: (shop, order) => `Thank you for your order ${order} from ${shop}. How did it go? Your answer helps us do better.`,
  reminderIntro: (shop, order) => `We would still love to hear how your order ${order} from ${shop} went. It takes a minute.`,
  emailProductsHeading: "In your order",
  emailButton: "Give feedback",
  emailLinkFallback: "Or open this link:",
  pageTitle: (shop) => `Your feedback for ${shop}`,
  pageIntro: (order) => `About your order ${order}`,
  npsLegend: (shop) => `How likely are you to recommend ${shop} to a friend or colleague? (0 = not at all likely, 10 = extremely likely)`,
  npsLow: "Not at all likely",
  npsHigh: "Extremely likely",
  commentLabel: "What is the main reason for your score? (optional)",
  commentHint: (max) => `Up to ${max} characters.`,
  productsHeading: "Rate your products",
  starsLegend: (product) => `Your rating for ${product}`,
  star: (n) => (n === 1 ? "1 star" : `${n} stars`),
  reviewLabel: (product) => `Your review of ${product} (optional)`,
  submit: "Send feedback",
  update: "Update my feedback",
  thanks: "Thank you! Your feedback was saved.",
  thanksEdited: "You can change your answer below as long as the link is valid.",
  editAgain: "Your previous answer is filled in: change it and send again to update it.",
  errorTitle: "This feedback link does not work",
  invalidLink: "The link is not valid. Please use the link from your email exactly as it was sent.",
  expiredLink: "This feedback link has expired.",
  invalidAnswer: "Please check your answer.",
  npsRequired: "Please choose a score from 0 to 10.",
  tooLong: (max) => `Please keep each text under ${max} characters.`,
};

const es: FeedbackMessages = {
  emailSubject: (shop) => `¿Qué tal tu pedido de ${shop}?`,
  reminderSubject: (shop) => `Un recordatorio: ¿qué tal tu pedido de ${shop}?`,
  emailPreview: (order) => `Cuéntanos sobre el pedido ${order}: solo lleva un minuto.`,
  greeting: (firstName) => (firstName ? `Hola, ${firstName}:` : "Hola:"),
  emailIntro: (shop, order) => `Gracias por tu pedido ${order} de ${shop}. ¿Cómo fue todo? Tu respuesta nos ayuda a mejorar.`,
  reminderIntro: (shop, order) => `Nos encantaría saber cómo fue tu pedido ${order} de ${shop}. Solo lleva un minuto.`,
  emailProductsHeading: "En tu pedido",
  emailButton: "Dar mi opinión",
  emailLinkFallback: "O abre este enlace:",
  pageTitle: (shop) => `Tu opinión sobre ${shop}`,
  pageIntro: (order) => `Sobre tu pedido ${order}`,
  npsLegend: (shop) => `¿Qué probabilidad hay de que recomiendes ${shop} a un amigo o colega? (0 = nada probable, 10 = muy probable)`,
  npsLow: "Nada probable",
  npsHigh: "Muy probable",
  commentLabel: "¿Cuál es el motivo principal de tu puntuación? (opcional)",
  commentHint: (max) => `Hasta ${max} caracteres.`,
  productsHeading: "Valora tus productos",
  starsLegend: (product) => `Tu valoración de ${product}`,
  star: (n) => (n === 1 ? "1 estrella" : `${n} estrellas`),
  reviewLabel: (product) => `Tu reseña de ${product} (opcional)`,
  submit: "Enviar opinión",
  update: "Actualizar mi opinión",
  thanks: "¡Gracias! Tu opinión se ha guardado.",
  thanksEdited: "Puedes cambiar tu respuesta aquí mientras el enlace sea válido.",
  editAgain: "Tu respuesta anterior está rellenada: cámbiala y envíala de nuevo para actualizarla.",
  errorTitle: "Este enlace de opinión no funciona",
  invalidLink: "El enlace no es válido. Usa el enlace de tu correo tal como se envió.",
  expiredLink: "Este enlace de opinión ha caducado.",
  invalidAnswer: "Revisa tu respuesta.",
  npsRequired: "Elige una puntuación de 0 a 10.",
  tooLong: (max) => `Cada texto debe tener menos de ${max} caracteres.`,
};

const pt: FeedbackMessages = {
  emailSubject: (shop) => `Como foi o seu pedido da ${shop}?`,
  reminderSubject: (shop) => `Um lembrete: como foi o seu pedido da ${shop}?`,
  emailPreview: (order) => `Conte-nos sobre o pedido ${order}: leva só um minuto.`,
  greeting: (firstName) => (firstName ? `Olá, ${firstName},` : "Olá,"),
  emailIntro: (shop, order) => `Obrigado pelo seu pedido ${order} da ${shop}. Como foi? A sua resposta ajuda-nos a melhorar.`,
  reminderIntro: (shop, order) => `Ainda gostaríamos de saber como foi o seu pedido ${order} da ${shop}. Leva só um minuto.`,
  emailProductsHeading: "No seu pedido",
  emailButton: "Dar a minha opinião",
  emailLinkFallback: "Ou abra este link:",
  pageTitle: (shop) => `A sua opinião sobre a ${shop}`,
  pageIntro: (order) => `Sobre o seu pedido ${order}`,
  npsLegend: (shop) => `Qual a probabilidade de recomendar a ${shop} a um amigo ou colega? (0 = nada provável, 10 = muito provável)`,
  npsLow: "Nada provável",
  npsHigh: "Muito provável",
  commentLabel: "Qual o principal motivo da sua nota? (opcional)",
  commentHint: (max) => `Até ${max} caracteres.`,
  productsHeading: "Avalie os seus produtos",
  starsLegend: (product) => `A sua avaliação de ${product}`,
  star: (n) => (n === 1 ? "1 estrela" : `${n} estrelas`),
  reviewLabel: (product) => `A sua análise de ${product} (opcional)`,
  submit: "Enviar opinião",
  update: "Atualizar a minha opinião",
  thanks: "Obrigado! A sua opinião foi guardada.",
  thanksEdited: "Pode alterar a sua resposta abaixo enquanto o link for válido.",
  editAgain: "A sua resposta anterior está preenchida: altere-a e envie de novo para a atualizar.",
  errorTitle: "Este link de opinião não funciona",
  invalidLink: "O link não é válido. Use o link do seu e-mail tal como foi enviado.",
  expiredLink: "Este link de opinião expirou.",
  invalidAnswer: "Verifique a sua resposta.",
  npsRequired: "Escolha uma nota de 0 a 10.",
  tooLong: (max) => `Cada texto deve ter menos de ${max} caracteres.`,
};

const MESSAGES: Record<string, FeedbackMessages> = { en, es, pt };

export const FEEDBACK_LANGUAGES = Object.keys(MESSAGES);

/** The language used for a locale ("es-MX" -> "es"); English when there is no translation. */
export function feedbackLanguage(locale: string | null | undefined): string {
  const primary = (locale ?? "en").split("-")[0]!.toLowerCase();
  return Object.hasOwn(MESSAGES, primary) ? primary : "en";
}

export function feedbackMessages(locale: string | null | undefined): FeedbackMessages {
  return MESSAGES[feedbackLanguage(locale)]!;
}
